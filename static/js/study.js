/* Study page keyboard and timing (issue 4). No inline scripts: loaded with defer.
 *
 * Space or Enter reveals the answer (already in the page, hidden), 1-5 (1-4 on the four-grade
 * scale) press the matching rating button, Z presses Undo. The time from showing the question
 * to the rating goes into the form's duration_ms field. Without this file the same controls
 * work as plain links and forms.
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

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!document.getElementById("study-card")) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const onControl = target.closest && target.closest("button, a, summary");

    if (event.key === " " || event.key === "Enter") {
      // A focused button or link does its own thing with these keys.
      if (!onControl && !event.repeat && reveal()) event.preventDefault();
    } else if (/^[1-5]$/.test(event.key)) {
      if (!event.repeat && rate(event.key)) event.preventDefault();
    } else if (event.key === "z" || event.key === "Z") {
      if (!event.repeat && press("#study-undo")) event.preventDefault();
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

  // A new card (or the finished view) swapped in: restart the clock and put focus on it.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "study-card") return;
    shownAt = performance.now();
    const focus =
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
