"""Re-authentication ("sudo mode"): sensitive owner actions need a password entered
within REAUTH_MINUTES, so a session cookie left behind on a shared computer, or
stolen, cannot sign everyone out or loosen the account's policy."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.debug import sensitive_variables

from accounts.forms import ReauthForm
from accounts.lockout import SignInRefused, refusal_text
from accounts.signin import REAUTHENTICATION, confirm_password
from audit import events
from securityportal.client import client_ip

REAUTHENTICATED_AT = "reauthenticated_at"


def last_authenticated(request: HttpRequest) -> datetime | None:
    """When this browser session last proved its password: at sign-in, or since."""
    moments = []
    row = request.session.current_row()
    if row is not None:
        moments.append(row.created_at)
    stamp = parse_datetime(request.session.get(REAUTHENTICATED_AT, "") or "")
    if stamp is not None:
        moments.append(stamp)
    return max(moments, default=None)


def is_recent(request: HttpRequest, now: datetime | None = None) -> bool:
    """Whether the password was entered within REAUTH_MINUTES."""
    moment = last_authenticated(request)
    now = now or timezone.now()
    return moment is not None and now - moment <= timedelta(minutes=settings.REAUTH_MINUTES)


@sensitive_variables("password")
def reauthenticate(request: HttpRequest, *, password: str) -> None:
    """Check the signed-in user's password (under the sign-in lockout; raises
    SignInRefused), then mark the session as recently authenticated. The key is
    rotated: a copy of the cookie taken before this moment stops working."""
    confirm_password(request, user=request.user, password=password, purpose=REAUTHENTICATION)
    request.session[REAUTHENTICATED_AT] = timezone.now().isoformat()
    # The new key and its audit row commit together. Alone, the rotation would sign
    # the browser out (the error answer never carries the new cookie) unrecorded.
    # The password check stays outside: a wrong guess is counted whatever follows.
    with transaction.atomic():
        request.session.cycle_key()
        events.record(
            "session.reauthenticated",
            user=request.user,
            actor=request.user,
            target=f"session:{request.session.current_row().pk}",
            ip=client_ip(request),
        )


# The id of the prompt that is a page of its own.
PAGE_PROMPT_ID = "reauth"


@dataclass
class PasswordPrompt:
    """What a "Confirm it's you" page needs: the form (with its error after a wrong
    password), the fields of the request to post again once it is right, and the
    id the prompt and its field are named under."""

    form: ReauthForm
    carried: list[tuple[str, str]]
    id: str

    @property
    def is_page(self) -> bool:
        """A page of its own (without JavaScript, or a link opened as a page), not a
        card swapped into the owner page: it carries the page's main heading."""
        return self.id == PAGE_PROMPT_ID


# An element id of our own pages, as htmx sends it in HX-Target; anything else (the
# header is the client's to write) names no place, and the prompt takes the default.
_ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def _swapped_prompt_id(request: HttpRequest) -> str | None:
    """A prompt swapped into a page is named after the element it goes into: two
    prompts on one page (the policy card's and the sign-out's) never share an id,
    so neither's label or heading names the other's. None for a page of its own."""
    target = request.htmx.target if request.htmx else None
    # The page's own prompt, posted again with a wrong password, stays the page's.
    if not target or target == PAGE_PROMPT_ID or not _ELEMENT_ID.fullmatch(target):
        return None
    # A prompt posted again (a wrong password) goes back into itself.
    return target if target.startswith("reauth-") else f"reauth-{target}"


def password_prompt(request: HttpRequest) -> PasswordPrompt | None:
    """None when ``request`` may go ahead: it is not a POST, the password was entered
    within REAUTH_MINUTES, or it came with the right one (the session is then marked
    recent). Otherwise the prompt to show instead of running the request.

    A password typed into the request itself (a new user's, a reset one) is not
    carried back into the page: the user types it again."""
    if request.method != "POST" or is_recent(request):
        return None
    swapped_id = _swapped_prompt_id(request)
    data = request.POST if "reauth_password" in request.POST else None
    form = ReauthForm(data, auto_id=f"{swapped_id}-%s" if swapped_id else "id_%s")
    if form.is_bound and form.is_valid():
        try:
            reauthenticate(request, password=form.cleaned_data["reauth_password"])
        except SignInRefused as refused:
            form.add_error("reauth_password", _refusal(refused))
        else:
            return None
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken" and "password" not in name
        for value in values
    ]
    return PasswordPrompt(form=form, carried=carried, id=swapped_id or PAGE_PROMPT_ID)


def _refusal(refused: SignInRefused) -> str:
    if refused.retry_after is not None:
        return refusal_text(refused)
    return "That is not your password."
