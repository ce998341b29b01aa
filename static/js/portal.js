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

// Password fields: a Show/Hide toggle each (hidden until this script runs, so a
// page without JavaScript shows no dead button).
function enablePasswordToggles(root) {
  root.querySelectorAll("[data-reveal][hidden]").forEach((button) => {
    button.hidden = false;
  });
}
enablePasswordToggles(document);
document.addEventListener("htmx:load", (event) => enablePasswordToggles(event.target));

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-reveal]");
  if (!button) {
    return;
  }
  const input = document.getElementById(button.dataset.reveal);
  const showing = input.type === "text";
  input.type = showing ? "password" : "text";
  button.textContent = showing ? "Show" : "Hide";
  button.setAttribute("aria-pressed", String(!showing));
});

// Hints while typing a new password; the server checks again, with every rule.
const MIN_LENGTH = 12;
document.addEventListener("input", (event) => {
  const form = event.target.closest("[data-password-form]");
  if (!form) {
    return;
  }
  const fresh = form.elements.namedItem("new_password1");
  const confirm = form.elements.namedItem("new_password2");
  const lengthHint = form.querySelector("[data-hint-for=new_password1]");
  const matchHint = form.querySelector("[data-hint-for=new_password2]");
  if (fresh && lengthHint) {
    const missing = MIN_LENGTH - fresh.value.length;
    lengthHint.textContent =
      fresh.value && missing > 0 ? `${missing} more character${missing === 1 ? "" : "s"} needed.` : "";
  }
  if (fresh && confirm && matchHint) {
    matchHint.textContent =
      confirm.value && confirm.value !== fresh.value ? "The two new passwords do not match yet." : "";
  }
});

// The owner's Policy card: Strict and Standard show their limits in the inputs and
// lock them; Custom unlocks them, with the values last typed. Without JavaScript
// the inputs stay editable and the server reads them only for Custom.
function syncPolicyForm(form) {
  const chosen = form.querySelector("input[name=preset]:checked");
  if (!chosen) {
    return;
  }
  const presets = JSON.parse(form.dataset.presets);
  const defaults = JSON.parse(form.dataset.defaults);
  const inputs = [form.elements.namedItem("idle_minutes"), form.elements.namedItem("absolute_minutes")];
  const custom = chosen.value === "custom";
  inputs.forEach((input, index) => {
    if (custom) {
      if (input.dataset.customValue !== undefined) {
        input.value = input.dataset.customValue;
      }
    } else {
      if (!input.disabled) {
        input.dataset.customValue = input.value;
      }
      const value = presets[chosen.value][index];
      input.value = value === null ? defaults[index] : value;
    }
    input.disabled = !custom;
  });
}
function enablePolicyForms(root) {
  root.querySelectorAll("[data-policy-form]").forEach(syncPolicyForm);
}
enablePolicyForms(document);
document.addEventListener("htmx:load", (event) => enablePolicyForms(event.target));
document.addEventListener("change", (event) => {
  const form = event.target.closest("[data-policy-form]");
  if (form && event.target.name === "preset") {
    syncPolicyForm(form);
  }
});
