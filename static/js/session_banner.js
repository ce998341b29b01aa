// The expiry banner: dismissal remembered per deadline, and one answer in every tab
// of this browser. Progressive enhancement: without JavaScript the banner still
// shows and its forms still post; it only stops updating itself.
"use strict";

(() => {
  // The deadline last dismissed. Per deadline, not for good: after "Stay signed
  // in" (a new deadline) the banner comes back when it is due again.
  const DISMISSED_KEY = "session-banner:dismissed";
  // Tabs tell each other through a BroadcastChannel, or, where there is none,
  // through this key, whose changes reach the other tabs as "storage" events.
  const MESSAGE_KEY = "session-banner:message";
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("session-banner") : null;

  const slot = () => document.getElementById("session-banner");
  // Where storage is disabled, a dismissal lasts as long as this page.
  let dismissedHere = null;

  function read(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  }

  function write(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // storage disabled: this tab still hides the banner
    }
  }

  // Show the Dismiss button (hidden without JavaScript, where it could do
  // nothing) and hide a banner whose deadline was dismissed. The hidden banner
  // stays in the page and keeps polling, so a session that ends still goes to
  // the login page.
  function apply() {
    const banner = slot();
    if (!banner || !banner.dataset.deadline) {
      return;
    }
    banner.querySelectorAll("[data-session-banner-dismiss]").forEach((button) => {
      button.hidden = false;
    });
    // Either will do: storage may hold an older deadline that a failed write left.
    banner.hidden = [read(DISMISSED_KEY), dismissedHere].includes(banner.dataset.deadline);
    const announcer = document.getElementById("session-banner-announcer");
    if (banner.hidden && announcer) {
      // A dismissed warning is not left for a screen reader to find, going stale.
      announcer.textContent = "";
    }
  }

  // A screen reader hears a warning once per deadline, when it appears on a poll.
  // The banner is replaced on every poll, so it is not a live region itself; the
  // announcer beside it stays, and is written only when there is something new to
  // say. A warning already on the page when it loads is read with the page.
  let announced = slot() ? slot().dataset.deadline || null : null;
  function announce() {
    const banner = slot();
    const announcer = document.getElementById("session-banner-announcer");
    const deadline = banner ? banner.dataset.deadline || null : null;
    if (!announcer || deadline === announced) {
      return;
    }
    announced = deadline;
    const text = banner && !banner.hidden ? banner.querySelector(".session-banner-text") : null;
    announcer.textContent = text ? text.textContent.trim() : "";
  }

  // Ask the server again now, instead of at the next scheduled poll.
  function refresh() {
    const banner = slot();
    if (banner && banner.dataset.deadline && window.htmx) {
      window.htmx.ajax("GET", banner.getAttribute("hx-get"), {
        source: banner,
        target: banner,
        swap: "outerHTML",
      });
    }
  }

  // A message names its deadline: a tab that cannot read storage still learns which
  // deadline was dismissed.
  function tell(message, deadline) {
    if (channel) {
      channel.postMessage({ message, deadline });
    } else {
      write(MESSAGE_KEY, JSON.stringify({ message, deadline, at: Date.now() }));
    }
  }

  function hear(said) {
    if (typeof said === "string") {
      said = { message: said }; // from a tab still on the page before this version
    }
    if (!said) {
      return;
    }
    if (said.message === "kept-alive") {
      refresh();
    } else if (said.message === "dismissed") {
      dismissedHere = said.deadline || dismissedHere;
      apply();
    }
  }

  if (channel) {
    channel.addEventListener("message", (event) => hear(event.data));
  }
  window.addEventListener("storage", (event) => {
    if (event.key === DISMISSED_KEY) {
      apply();
    } else if (event.key === MESSAGE_KEY && event.newValue) {
      try {
        hear(JSON.parse(event.newValue));
      } catch {
        // not ours
      }
    }
  });

  // The banner is replaced on every poll. If the user's focus was in it and the
  // new one has no control of the same id to take it (htmx moves focus to one
  // that has), it goes to the top of the page rather than being lost. Focus is
  // never moved otherwise: a poll must not pull the user away from their work.
  let focusWasInBanner = false;
  function keepFocusInReach() {
    const active = document.activeElement;
    const banner = slot();
    // A control just hidden with the banner may still report focus, out of reach.
    const lost = !active || active === document.body || (banner && banner.hidden && banner.contains(active));
    if (focusWasInBanner && lost) {
      const main = document.getElementById("main");
      if (main) {
        main.setAttribute("tabindex", "-1");
        main.focus();
      }
    }
    focusWasInBanner = false;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const banner = slot();
    if (banner && event.detail.target === banner) {
      focusWasInBanner = banner.contains(document.activeElement);
    }
  });

  // Runs in the same task as the swap, before the browser paints, so a dismissed
  // banner never flashes back.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target !== slot()) {
      return;
    }
    apply();
    announce();
    keepFocusInReach();
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.matches && source.matches("[data-session-keepalive]")) {
      tell("kept-alive", null);
    }
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-session-banner-dismiss]");
    const banner = slot();
    if (!button || !banner) {
      return;
    }
    focusWasInBanner = true;
    dismissedHere = banner.dataset.deadline || null;
    write(DISMISSED_KEY, banner.dataset.deadline || "");
    apply();
    keepFocusInReach();
    tell("dismissed", dismissedHere);
  });

  apply();
})();
