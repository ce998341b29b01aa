// Progressive enhancement only: every control here also works without JavaScript.
"use strict";

// A link with data-open-dialog="ID" opens that <dialog> instead of navigating to
// its no-JavaScript confirmation page. Delegated, so it survives HTMX swaps.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && typeof dialog.showModal === "function") {
      event.preventDefault();
      dialog.showModal();
    }
    return;
  }
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) {
    closer.closest("dialog").close();
  }
});

// Close a dialog once its form has been sent.
document.addEventListener("htmx:afterRequest", (event) => {
  const dialog = event.target.closest && event.target.closest("dialog");
  if (dialog && dialog.open) {
    dialog.close();
  }
});

// After a swap, move focus to the new status line, so keyboard and screen-reader
// users learn what happened instead of losing focus with the removed button.
document.addEventListener("htmx:afterSwap", (event) => {
  const status = event.target.querySelector && event.target.querySelector("[role=status]");
  if (status && status.textContent.trim()) {
    status.setAttribute("tabindex", "-1");
    status.focus();
  }
});
