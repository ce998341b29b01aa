"""The expiry banner (SPEC §5): when a signed-in page warns that its session is about to
end, which deadline it names, and when the page should ask again."""

import functools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone

from securityportal.htmx import current_page_path
from sessions.models import Session

IDLE = "idle"
ABSOLUTE = "absolute"
# While the banner shows, the page asks again this often, so activity elsewhere
# (another device, another browser) clears it soon and the minutes stay right.
SHOWN_POLL_SECONDS = 15
# Far from both deadlines the page still asks at least this often: a session can
# be ended early (signed out elsewhere, by an owner, by a stricter policy applied
# now), and its open pages should go to the login page soon after.
FAR_POLL_SECONDS = 300


@dataclass(frozen=True)
class ExpiryBanner:
    """What the banner shows: ``kind`` is IDLE, ABSOLUTE, or None for nothing."""

    kind: str | None
    deadline: datetime
    seconds_left: float
    poll_seconds: int

    @property
    def minutes_left(self) -> int:
        # Rounded up: "in 1 minute" until the very end, never "in 0 minutes".
        return max(1, math.ceil(self.seconds_left / 60))

    @property
    def deadline_key(self) -> str:
        """The deadline as the page remembers a dismissal by."""
        return self.deadline.isoformat(timespec="seconds")


def expiry_banner(session: Session, now: datetime) -> ExpiryBanner:
    """The banner for ``session`` at ``now`` and the delay before the next poll.

    The deadline is the closer of the idle and the absolute one (on a tie the
    absolute one, which nothing extends). The banner shows from
    SESSION_WARNING_MINUTES before it. Far from it, the next poll comes when the
    banner is due; once shown, every SHOWN_POLL_SECONDS and once more right at
    the deadline, so an ended session goes to the login page at once (a second
    later for the idle limit, which still serves its very instant)."""
    idle, absolute = session.idle_expires_at, session.expire_date
    kind, deadline = (IDLE, idle) if idle < absolute else (ABSOLUTE, absolute)
    seconds_left = (deadline - now).total_seconds()
    due_in = seconds_left - settings.SESSION_WARNING_MINUTES * 60
    if due_in > 0:
        kind, poll_seconds = None, _delay(due_in, FAR_POLL_SECONDS)
    else:
        poll_seconds = _delay(seconds_left, SHOWN_POLL_SECONDS)
    return ExpiryBanner(
        kind=kind, deadline=deadline, seconds_left=seconds_left, poll_seconds=poll_seconds
    )


def _delay(seconds: float, cap: int) -> int:
    # Whole seconds rounded up, so a poll meant for a moment lands at it or just
    # after, never just before (which would cost a second poll).
    return max(1, min(cap, math.ceil(seconds)))


def banner_context(request: HttpRequest) -> dict[str, Any]:
    """What the banner partial renders for this request, from the session row the
    store has already loaded (no query)."""
    row = request.session.current_row()
    banner = None if row is None else expiry_banner(row, timezone.now())
    here = _page_path(request)
    context = {
        "banner": banner,
        "return_path": here,
        "status_url": _route("session_status"),
        "keepalive_url": _route("session_keepalive"),
        "logout_url": _route("logout"),
    }
    if banner is not None and banner.kind == ABSOLUTE:
        # "Sign in now" signs out first, then returns to this page after sign-in.
        login = _route(settings.LOGIN_URL)
        context["sign_in_again_url"] = (
            f"{login}?{urlencode({'next': here}, safe='/')}" if here else login
        )
    return context


def _route(name: str) -> str:
    """The path of the route ``name``, which takes no arguments.

    Every signed-in page and every poll of the banner names these routes; reversing
    one walks the whole URLconf, which cost more than the rest of the banner."""
    return _reversed(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=64)
def _reversed(name: str, script_prefix: str, urlconf: str) -> str:
    # The prefix and URLconf are the key: resolve_url() reads both. LOGIN_URL may be
    # a path as well as a route's name.
    return resolve_url(name)


def _page_path(request: HttpRequest) -> str:
    """The page the user is looking at: for HTMX, the page behind the fragment;
    nothing after a plain POST, whose URL is an action rather than a page."""
    if request.htmx:
        return current_page_path(request) or ""
    return request.get_full_path() if request.method == "GET" else ""
