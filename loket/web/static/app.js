// Loket pages work without JavaScript; this only adds conveniences. Loaded as a file so
// that the content security policy can forbid inline scripts.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" checkbox of a table of tasks (supervisor's reassignment).
  for (const all of document.querySelectorAll("input.select-all")) {
    all.addEventListener("change", () => {
      const table = all.closest("table");
      for (const box of table.querySelectorAll("tbody input[type=checkbox][name=task]")) {
        box.checked = all.checked;
      }
    });
  }
  // Ask before an irreversible administrator action.
  for (const button of document.querySelectorAll("button.danger")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm || "?")) event.preventDefault();
    });
  }
});
