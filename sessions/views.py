"""The Active sessions card: its list partial and the sign-out actions behind it; the
expiry banner's status and "Stay signed in"."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from audit.devices import LinkRefused, session_of_disown_token
from securityportal.client import client_ip, recognised_device
from sessions.banner import banner_context
from sessions.devices import Device, current_first, device_of
from sessions.lifecycle import (
    NotRevocable,
    disown_session,
    live_sessions_for_user,
    revoke_other_sessions,
    revoke_own_session,
)
from sessions.middleware import not_activity
from sessions.models import RevokedReason, Session
from sessions.validation import record_activity

LIST_PARTIAL = "sessions/sessions_card.html#session-list"


@dataclass(frozen=True)
class SessionRow:
    session: Session
    device: Device
    is_current: bool


def sessions_card_context(request: HttpRequest) -> dict[str, Any]:
    """What the Active sessions card renders: this session first, then the others, most
    recently active first; one query however many there are."""
    current = request.session.current_row()
    sessions = current_first(live_sessions_for_user(request.user, timezone.now()), current)
    rows = [
        SessionRow(session, device_of(session), current is not None and session.pk == current.pk)
        for session in sessions
    ]
    return {
        "session_rows": rows,
        "only_this_device": all(row.is_current for row in rows),
    }


# The toast portal.js shows for a server's answer, by the level of its message.
_TOAST_LEVELS = {messages.SUCCESS: "success", messages.INFO: "info", messages.ERROR: "error"}


def _done(request: HttpRequest, message: str, level: int = messages.SUCCESS) -> HttpResponse:
    """HTMX swaps the refreshed list in place and shows ``message`` as a toast; a plain
    form post returns to the page, which shows it as a message."""
    if request.htmx:
        response = render(request, LIST_PARTIAL, sessions_card_context(request))
        return trigger_client_event(
            response, "toast", {"message": message, "level": _TOAST_LEVELS[level]}
        )
    messages.add_message(request, level, message)
    return redirect("security")


@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    """The list partial on its own, which the page fetches again after an action failed;
    without HTMX, the page that holds it."""
    if request.htmx:
        return render(request, LIST_PARTIAL, sessions_card_context(request))
    return redirect(reverse("security") + "#sessions-title")


@require_POST
def revoke(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    try:
        session = revoke_own_session(
            user=request.user,
            session_id=session_id,
            current=request.session.current_row(),
            ip=client_ip(request),
        )
    except NotRevocable as refused:
        if refused.code == NotRevocable.CURRENT:
            return _done(
                request, "This is the device you are using; use Sign out.", messages.ERROR
            )
        # Ended elsewhere (another tab, expiry, an owner) since the list was drawn:
        # the refreshed list shows what is still signed in.
        return _done(request, "That session had already ended.", messages.INFO)
    return _done(request, f"Signed out {device_of(session).label}.")


@require_http_methods(["GET", "POST"])
def revoke_others(request: HttpRequest) -> HttpResponse:
    """POST signs out every other session; GET is the confirmation page for browsers
    without JavaScript (with it, a <dialog> confirms in place)."""
    if request.method == "GET":
        return render(request, "sessions/revoke_others_confirm.html")
    count = revoke_other_sessions(
        user=request.user,
        keep=request.session.current_row(),
        reason=RevokedReason.USER,
        actor=request.user,
        ip=client_ip(request),
    )
    # Said so that a repeated request (a double click, a retry) tells the same story:
    # the state is "only this device", however many the last request ended.
    if count:
        noun = "session" if count == 1 else "sessions"
        return _done(request, f"Signed out {count} other {noun}. Only this device is signed in.")
    return _done(request, "Only this device is signed in.")


@login_not_required
@require_http_methods(["GET", "POST"])
def disown(request: HttpRequest, token: str) -> HttpResponse:
    """The "This wasn't me" link of a new-device e-mail: GET asks, POST signs that one
    session out and sends the user on to change their password.

    GET changes nothing, so a mail scanner that follows links cannot sign anyone
    out; the link needs no sign-in, since its reader may be locked out by the
    intruder. A forged, altered or expired link does nothing, and a used one
    finds its session already ended."""
    try:
        session_id = session_of_disown_token(token)
    except LinkRefused as refused:
        return render(request, "sessions/disown.html", {"refused": refused.code}, status=400)
    # Only a live one: a session past its idle or absolute limit has ended too, and
    # "signing it out" would claim an action that ended nothing, as the user's.
    now = timezone.now()
    session = Session.objects.live(now).select_related("user").filter(pk=session_id).first()
    if session is None:
        return render(request, "sessions/disown.html", {"already_ended": True})
    # Named as the e-mail names it: never the text the client wrote itself.
    device = recognised_device(session.user_agent)
    if request.method == "GET":
        return render(request, "sessions/disown.html", {"session": session, "device": device})
    if not disown_session(session=session, ip=client_ip(request), now=now):
        return render(request, "sessions/disown.html", {"already_ended": True})
    if request.user.is_authenticated and request.user.pk != session.user_id:
        # The link reached someone else's browser (a forwarded e-mail): telling them
        # to change their own password would be wrong advice, and the session's user
        # would never hear it.
        return render(request, "sessions/disown.html", {"ended_for_someone_else": True})
    messages.warning(
        request,
        f"{device} was signed out. Change your password now: whoever signed in there knows it.",
    )
    return redirect(reverse("security") + "#password-title")


BANNER_PARTIAL = "sessions/expiry_banner.html"


@not_activity
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """The expiry banner, which every signed-in page polls. Polling is not activity, so
    an open tab does not keep its session alive; an ended session is signed out as on
    any request (HTMX: HX-Redirect to the login page)."""
    return render(request, BANNER_PARTIAL, banner_context(request))


KEPT_SIGNED_IN = "You will stay signed in."
STILL_ENDS = "Your session still ends at its maximum length: sign in again to go on."


@require_POST
def keepalive(request: HttpRequest) -> HttpResponse:
    """The banner's "Stay signed in": the idle deadline restarts now, even within the
    minute in which activity is otherwise not written again. The absolute deadline
    stays: the refreshed banner still names it when it is the closer one."""
    row = request.session.current_row()
    message, level = KEPT_SIGNED_IN, messages.SUCCESS
    if row is not None:
        now = timezone.now()
        record_activity(row, now, force=True)
        if row.expire_date <= row.idle_expires_at:
            # The maximum length now comes first, and nothing extends it: the toast
            # must not promise what the banner will soon deny.
            message, level = STILL_ENDS, messages.INFO
    if request.htmx:
        response = render(request, BANNER_PARTIAL, banner_context(request))
        if row is None:
            return response
        return trigger_client_event(
            response, "toast", {"message": message, "level": _TOAST_LEVELS[level]}
        )
    if row is not None:
        # Without JavaScript the page it returns to says so, as the toast would.
        messages.add_message(request, level, message)
    return redirect(_local_path(request.POST.get("next", "")) or "security")


def _local_path(url: str) -> str:
    """``url`` if it is a path on this site, else "" (an open redirect otherwise)."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""
