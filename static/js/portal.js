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

// Close a dialog once its form has been sent: before the answer is swapped in, so
// that the dialog hands focus back to its opener before the swap decides where
// focus goes next; after the request for an answer that is not swapped (a failure).
function closeDialogOf(event) {
  // The form that sent the request: beforeSwap is fired on the swap's target.
  const source = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.target;
  const dialog = source.closest && source.closest("dialog");
  if (dialog && dialog.open) {
    dialog.close();
  }
}
document.addEventListener("htmx:beforeSwap", closeDialogOf);
document.addEventListener("htmx:afterRequest", closeDialogOf);

// Focus an element that is not a control (tabindex -1: reached by script, not by Tab).
function focusElement(element) {
  element.setAttribute("tabindex", "-1");
  element.focus();
}

// After a swap, move focus to the new status line, so keyboard and screen-reader
// users learn what happened instead of losing focus with the removed button; or,
// when the swap brought a form back with errors, to its first field in error,
// whose error is read with it (aria-describedby); or else to a warning the form
// came back with (an error of the whole form, the policy's "will sign out N
// sessions"), from which the next Tab reaches its buttons.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!event.target.querySelector) {
    return;
  }
  const status = event.target.querySelector("[role=status]");
  if (status && status.textContent.trim()) {
    focusElement(status);
    return;
  }
  const invalid = event.target.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
    return;
  }
  const alert = event.target.querySelector(".notice[role=alert]");
  if (alert) {
    focusElement(alert);
  }
});

// "Load more" and "Show more people" give way to the rows they bring: focus goes to
// the first of them, where reading carries on, not to the top of the page.
const firstNewRows = new WeakMap();
document.addEventListener("htmx:beforeRequest", (event) => {
  const more = event.detail.elt;
  if (more.matches && more.matches("[data-more-rows]")) {
    const row = more.closest("li");
    firstNewRows.set(event.detail.xhr, { list: row.parentElement, index: Array.from(row.parentElement.children).indexOf(row) });
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  const place = firstNewRows.get(event.detail.xhr);
  const row = place && place.list.children[place.index];
  if (row && (!document.activeElement || document.activeElement === document.body)) {
    focusElement(row);
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
  // The name says what a press does ("Hide current password"); no aria-pressed
  // beside it, which would say it twice ("Hide …, pressed").
  button.querySelector("[data-reveal-verb]").textContent = showing ? "Show" : "Hide";
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
    // Characters as the server counts them (code points): an emoji is one, though
    // JavaScript's length counts it as two.
    const missing = MIN_LENGTH - Array.from(fresh.value).length;
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

// Busy, done and failed: what every in-page action says while it runs and after.
// The server names a success in an HX-Trigger "toast" event; a failure (an error
// status, no network, a timeout) is told here, and the part of the page it acted
// on is fetched again, so it shows what is really true now.
const TOAST_SECONDS = 8;

function showToast(message, level) {
  const region = document.getElementById("toasts");
  if (!region || !message) {
    return;
  }
  const toast = document.createElement("div");
  toast.className = `toast toast-${level || "info"}`;
  const text = document.createElement("p");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss message");
  close.textContent = "\u00d7";
  toast.append(text, close);
  region.append(toast);
  // An error stays until dismissed: one that vanished might never have been read.
  if (level !== "error") {
    window.setTimeout(function removeUnlessInUse() {
      // Not from under the keyboard or the pointer of someone reading or closing it.
      if (toast.matches(":focus-within, :hover")) {
        window.setTimeout(removeUnlessInUse, TOAST_SECONDS * 1000);
      } else {
        toast.remove();
      }
    }, TOAST_SECONDS * 1000);
  }
}

document.addEventListener("click", (event) => {
  const close = event.target.closest(".toast-close");
  if (close) {
    close.closest(".toast").remove();
  }
});

document.addEventListener("toast", (event) => showToast(event.detail.message, event.detail.level));

function whyItFailed(event) {
  if (event.type === "htmx:sendError") {
    return "The server could not be reached. Check your connection and try again.";
  }
  if (event.type === "htmx:timeout") {
    return "The server took too long to answer. Try again.";
  }
  const status = event.detail.xhr.status;
  if (status === 429) {
    return "Too many attempts for now. Wait a minute and try again.";
  }
  if (status >= 500) {
    return `The server had a problem (error ${status}). Try again in a moment.`;
  }
  return `The server refused the request (error ${status}). Reload the page and try again.`;
}

function actionFailed(event) {
  const config = event.detail.requestConfig;
  const source = event.detail.elt;
  const asked = source.matches && source.matches("[data-more-rows]");
  // Only what a person asked for: a poll (the expiry banner's) or a refresh that
  // fails tries again by itself.
  if (!config || (config.verb === "get" && !asked)) {
    return;
  }
  const target = event.detail.target;
  const region =
    (target && target.closest && target.closest("[data-refresh-url]")) ||
    (source.closest && source.closest("[data-refresh-url]"));
  const said = source.closest && source.closest("[data-failure]");
  const what = (said || region || { dataset: {} }).dataset.failure || "That did not go through.";
  showToast(`${what} ${whyItFailed(event)}`, "error");
  if (asked) {
    return; // rows not brought changed nothing; the link is there to try again
  }
  // A modal dialog left open would keep the rest of the page out of reach of focus.
  closeDialogOf(event);
  focusHomeIfLost(focusHomes.get(event.detail.xhr));
  if (region && window.htmx) {
    window.htmx.ajax("GET", region.dataset.refreshUrl, { source: region, target: region, swap: "outerHTML" });
  }
}
document.addEventListener("htmx:responseError", actionFailed);
document.addEventListener("htmx:sendError", actionFailed);
document.addEventListener("htmx:timeout", actionFailed);

// aria-busy while a form's request runs, next to the spinner and disabled button.
document.addEventListener("htmx:beforeRequest", (event) => {
  event.detail.elt.setAttribute("aria-busy", "true");
});
document.addEventListener("htmx:afterRequest", (event) => {
  event.detail.elt.removeAttribute("aria-busy");
});

// A swap that removed the focused control (the row just signed out, the dialog's
// opener), or a button disabled while its request ran (the browser takes focus off
// it), would drop keyboard focus to the top of the page: it goes to the heading of
// the part that changed (data-focus-home) instead.
function focusHomeIfLost(id) {
  const home = document.getElementById(id || "");
  const lost = !document.activeElement || document.activeElement === document.body;
  if (home && lost) {
    focusElement(home);
  }
}
const focusHomes = new WeakMap();
document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.target && event.detail.target.closest && event.detail.target.closest("[data-focus-home]");
  if (region && event.detail.requestConfig.verb !== "get") {
    focusHomes.set(event.detail.xhr, region.dataset.focusHome);
  }
});
// In the task of the swap itself, before the next paint or keystroke.
document.addEventListener("htmx:afterSwap", (event) => focusHomeIfLost(focusHomes.get(event.detail.xhr)));

// Relative times ("3 minutes ago") keep up without a reload; the server's text is
// what a page without JavaScript shows. Worded as Django's naturaltime words them.
// Weeks at most: Django counts months and years by the calendar, and a time four
// weeks old or more keeps the server's words (REWRITE_SECONDS).
const TIME_UNITS = [
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];
const REWRITE_SECONDS = 28 * 86400;

function count(number, unit) {
  return `${number}\u00a0${unit}${number === 1 ? "" : "s"}`;
}

function naturalTime(date, now) {
  // Every rewritten time is in the past; a clock a little behind the server's must
  // not turn one into "from now".
  const seconds = Math.max(0, Math.round((now - date) / 1000));
  if (seconds < 1) {
    return "now";
  }
  if (seconds < 60) {
    return (seconds === 1 ? "a second" : count(seconds, "second")) + " ago";
  }
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    return (minutes === 1 ? "a minute" : count(minutes, "minute")) + " ago";
  }
  if (seconds < 86400) {
    const hours = Math.floor(seconds / 3600);
    return (hours === 1 ? "an hour" : count(hours, "hour")) + " ago";
  }
  // Two adjacent units at most, as Django's timesince: "1 day, 2 hours".
  const index = TIME_UNITS.findIndex(([, size]) => seconds >= size);
  const [unit, size] = TIME_UNITS[index];
  const parts = [count(Math.floor(seconds / size), unit)];
  const next = TIME_UNITS[index + 1];
  if (next) {
    const rest = Math.floor((seconds % size) / next[1]);
    if (rest) {
      parts.push(count(rest, next[0]));
    }
  }
  return parts.join(", ") + " ago";
}

const RELATIVE_TIME_SECONDS = 30;
// How far this device's clock is behind (or ahead of) the server's, from the moment
// the server wrote the page (to the second): relative times are counted on the
// server's clock. Under two seconds it is the page's own travel time and the
// second cut off, not a clock that is wrong, and left alone.
const SERVER_TIME = Number(document.body.dataset.serverTime);
const MEASURED_SKEW = Number.isFinite(SERVER_TIME) ? SERVER_TIME * 1000 - Date.now() : 0;
const CLOCK_SKEW = Math.abs(MEASURED_SKEW) > 2000 ? MEASURED_SKEW : 0;
function refreshRelativeTimes() {
  const now = Date.now() + CLOCK_SKEW;
  document.querySelectorAll("time[datetime][data-relative]").forEach((time) => {
    const date = Date.parse(time.getAttribute("datetime"));
    if (!Number.isNaN(date) && now - date < REWRITE_SECONDS * 1000) {
      time.textContent = naturalTime(date, now);
    }
  });
}
window.setInterval(refreshRelativeTimes, RELATIVE_TIME_SECONDS * 1000);
