"""The Active sessions card: its list partial and the sign-out actions behind it."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sessions.client import client_ip
from sessions.lifecycle import live_session_of, live_sessions_for_user, revoke_other_sessions
from sessions.models import RevokedReason

SECURITY_PAGE = "/settings/security/"
LIST_PARTIAL = "sessions/sessions_card.html#session-list"


def sessions_card_context(request: HttpRequest) -> dict[str, Any]:
    """What the Active sessions card renders: the live sessions and which is this one."""
    return {
        "sessions": live_sessions_for_user(request.user, timezone.now()),
        "current_session": request.session.current_row(),
    }


def _done(request: HttpRequest, message: str, level: int = messages.SUCCESS) -> HttpResponse:
    """HTMX swaps the refreshed list in place; a plain form post returns to the page."""
    if request.htmx:
        context = {**sessions_card_context(request), "status_message": message}
        return render(request, LIST_PARTIAL, context)
    messages.add_message(request, level, message)
    return redirect(SECURITY_PAGE)


@require_POST
def revoke(request: HttpRequest, session_id: str) -> HttpResponse:
    session = live_session_of(request.user, session_id, timezone.now())
    if session is None:
        raise Http404("No such session.")
    if session == request.session.current_row():
        return _done(request, "This is the device you are using; use Sign out.", messages.ERROR)
    session.revoke(reason=RevokedReason.USER, actor=request.user, ip=client_ip(request))
    return _done(request, f"Signed out {session.device}.")


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
    noun = "session" if count == 1 else "sessions"
    return _done(request, f"Signed out {count} other {noun}.")
