/* Study page keyboard and timing (issue 4). No inline scripts: loaded with defer.
 *
 * Space or Enter reveals the answer (already in the page, hidden), 1-5 (1-4 on the four-grade
 * scale) press the matching rating button, Z presses Undo. The time from showing the question
 * to the rating goes into the form's duration_ms field. Without this file the same controls
 * work as plain links and forms.
 *
 * Card actions (issue 15), Anki's keys: E edit, I card info (in a dialog), @ suspend, - bury,
 * Ctrl+1…7 flags (Alt+1…7 too: browsers keep Ctrl+digit for switching tabs), ? the key list.
 * Z undoes the newest rating or action. Escape closes a dialog (native <dialog>).
 */
(function () {
  "use strict";

  let shownAt = performance.now();
  let busy = false;

  function item() {
    return document.querySelector("#study-card .study-item");
  }

  function showError(text) {
    const box = document.getElementById("study-error");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  // Reveal the hidden answer in place; returns false when there is nothing to reveal.
  function reveal() {
    const card = item();
    const answer = card && card.querySelector(".study-answer");
    if (!answer || !answer.hidden) return false;
    answer.hidden = false;
    const form = card.querySelector(".study-reveal");
    if (form) form.hidden = true;
    // A flag set now brings the card back revealed, as it is on screen.
    const keep = card.querySelector(".study-flags input[name=reveal]");
    if (keep) keep.value = "1";
    const text = document.getElementById("study-answer-text");
    if (text) text.focus({ preventScroll: true });
    answer.scrollIntoView({ block: "nearest" });
    return true;
  }

  function press(selector) {
    if (busy) return false;
    const button = document.querySelector(selector);
    if (!button || button.disabled) return false;
    button.click();
    return true;
  }

  function rate(digit) {
    return press('#study-card .study-answer:not([hidden]) button[data-rating="' + digit + '"]');
  }

  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (form.matches(".study-reveal")) {
        if (reveal()) event.preventDefault();
      } else if (form.matches(".study-rate")) {
        form.elements.duration_ms.value = String(Math.round(performance.now() - shownAt));
      }
    },
    true,
  );

  // Anki's reviewer keys for the card actions: the toolbar's buttons and links they press.
  const actions = {
    e: "#study-edit",
    E: "#study-edit",
    i: "#study-info",
    I: "#study-info",
    "@": "#study-suspend",
    "-": "#study-bury",
    "=": "#study-bury-note",
  };

  function openDialog(id) {
    const dialog = document.getElementById(id);
    if (!dialog || dialog.open) return false;
    dialog.showModal();
    return true;
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#study-help-open")) openDialog("study-help");
  });

  function showHelpButton() {
    const button = document.getElementById("study-help-open");
    if (button) button.hidden = false;
  }
  showHelpButton();

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.metaKey) return;
    if (!document.getElementById("study-card")) return;
    if (document.querySelector("dialog[open]")) return; // Escape is the dialog's own
    const target = event.target;
    if (event.key === "Escape") {
      // Leave the in-place editor (back to the card), or close the open flag menu.
      const flags = document.querySelector("#study-card .study-flags[open]");
      if (flags) flags.open = false;
      if (flags || press("#study-edit-cancel")) event.preventDefault();
      return;
    }
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const flag = /^Digit([1-7])$/.exec(event.code || "");
    if ((event.ctrlKey || event.altKey) && flag) {
      const button = '#study-card .flag-button[data-flag="' + flag[1] + '"]';
      if (!event.repeat && press(button)) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.altKey) return;
    const onControl = target.closest && target.closest("button, a, summary");

    if (event.key === " " || event.key === "Enter") {
      // A focused button or link does its own thing with these keys.
      if (!onControl && !event.repeat && reveal()) event.preventDefault();
    } else if (/^[1-5]$/.test(event.key)) {
      if (!event.repeat && rate(event.key)) event.preventDefault();
    } else if (event.key === "z" || event.key === "Z") {
      if (!event.repeat && press("#study-undo")) event.preventDefault();
    } else if (actions[event.key]) {
      if (!event.repeat && press(actions[event.key])) event.preventDefault();
    } else if (event.key === "?") {
      if (openDialog("study-help")) event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.closest("#study-card")) {
      busy = true;
      showError("");
    }
  });

  document.addEventListener("htmx:afterRequest", function () {
    busy = false;
  });

  // The in-place editor's image upload: htmx runs no script it swaps in, and most study
  // pages never open the editor, so its script loads the first time an editor appears.
  function loadImageUpload() {
    const form = document.querySelector("#study-card form[data-media-upload][data-script]");
    if (!form || window.studyappMediaUpload || document.getElementById("media-upload-js")) return;
    const script = document.createElement("script");
    script.id = "media-upload-js";
    script.src = form.dataset.script;
    document.head.appendChild(script);
  }

  // A new card (or the finished view) swapped in: restart the clock and put focus on it.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "study-info-body") {
      openDialog("study-info-dialog");
      const heading = document.getElementById("study-info-heading");
      if (heading) heading.focus({ preventScroll: true });
      return;
    }
    if (event.target.id !== "study-card") return;
    loadImageUpload();
    shownAt = performance.now();
    showHelpButton();
    const focus =
      document.querySelector("#study-card .study-edit textarea") ||
      document.getElementById("study-reveal") ||
      document.getElementById("study-answer-text") ||
      document.getElementById("study-done-heading");
    if (focus) focus.focus({ preventScroll: true });
  });

  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    const text = xhr && xhr.responseText && xhr.status < 500 ? xhr.responseText : "";
    showError(text || "Something went wrong on the server. Your rating may not be saved.");
  });

  document.addEventListener("htmx:sendError", function () {
    showError("The server could not be reached. Check your connection and try again.");
  });
})();
