/* Images in the card editor (templates/cards/_media_upload.html): choose, drop or paste an
 * image and it is uploaded to the deck at once, then ![alt](url) goes in at the cursor of the
 * text box last used. Listeners sit on the document, so the study page's in-place editor that
 * htmx swaps in works too (htmx runs no scripts it swaps in: study.js loads this file when an
 * editor first appears); the guard keeps the listeners single where a page loads it twice.
 * Without this file the upload form opens the upload page, which shows the Markdown to copy.
 */
(function () {
  "use strict";
  if (window.studyappMediaUpload) return;
  window.studyappMediaUpload = true;

  const TYPES = { "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp" };
  let lastBox = null;

  function widget() {
    const forms = document.querySelectorAll("form[data-media-upload]");
    return forms.length ? forms[forms.length - 1] : null;
  }

  function targetBox() {
    if (lastBox && document.contains(lastBox)) return lastBox;
    const form = widget();
    const scope = (form && form.parentElement) || document;
    return scope.querySelector("textarea:not([readonly])");
  }

  function say(form, text, isError) {
    const status = form.querySelector(".media-upload-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function imageFiles(list) {
    return Array.from(list || []).filter(function (file) { return file.type in TYPES; });
  }

  function insertAtCursor(box, text) {
    const start = box.selectionStart, end = box.selectionEnd;
    box.focus();
    box.setRangeText(text, start, end, "end");
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function upload(file, box) {
    const form = widget();
    if (!form || !box) return;
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const name = file.name && file.name !== "image.png" ? file.name : "pasted." + TYPES[file.type];
    const alt = name.replace(/\.[^.]*$/, "").replace(/[-_]+/g, " ") || "image";
    const body = new FormData();
    body.append("csrfmiddlewaretoken", token);
    body.append("image", file, name);
    body.append("alt", alt);
    say(form, "Uploading " + name + "…", false);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token },
      });
      const data = await response.json().catch(function () {
        return { error: name + ": the upload failed (" + response.status + ")." };
      });
      if (!response.ok || data.error) {
        say(form, data.error || name + ": the upload failed.", true);
        return;
      }
      insertAtCursor(box, data.markdown);
      say(form, "Added " + name + ".", false);
    } catch (error) {
      say(form, name + ": the upload failed (no connection?). Nothing was added.", true);
    }
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("textarea")) lastBox = event.target;
  });

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches("form[data-media-upload] input[type=file]")) return;
    const box = targetBox();
    imageFiles(input.files).forEach(function (file) { upload(file, box); });
    input.value = "";
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-media-upload]")) return;
    event.preventDefault();
    const input = form.querySelector("input[type=file]");
    const files = imageFiles(input && input.files);
    if (!files.length) {
      say(form, "Choose a JPEG, PNG, GIF or WebP image first.", true);
      return;
    }
    files.forEach(function (file) { upload(file, targetBox()); });
    input.value = "";
  });

  document.addEventListener("paste", function (event) {
    const box = event.target;
    if (!widget() || !box.matches || !box.matches("textarea")) return;
    const files = imageFiles(event.clipboardData && event.clipboardData.files);
    if (!files.length) return; // ordinary text pastes as usual
    event.preventDefault();
    files.forEach(function (file) { upload(file, box); });
  });

  function dropTarget(event) {
    const target = event.target;
    if (!widget() || !target.closest) return null;
    if (target.matches("textarea")) return target;
    if (target.closest("form[data-media-upload]")) return targetBox();
    return null;
  }

  document.addEventListener("dragover", function (event) {
    const types = event.dataTransfer ? Array.from(event.dataTransfer.types) : [];
    if (types.indexOf("Files") !== -1 && dropTarget(event)) event.preventDefault();
  });

  document.addEventListener("drop", function (event) {
    const box = dropTarget(event);
    const files = imageFiles(event.dataTransfer && event.dataTransfer.files);
    if (!box || !files.length) return;
    event.preventDefault();
    files.forEach(function (file) { upload(file, box); });
  });
})();
