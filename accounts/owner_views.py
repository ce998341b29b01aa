"""The owner page, /account/security/: the account's session policy, who is signed in,
and signing everyone out. Owners only; the sensitive actions need a recent password."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.forms import SessionPolicyForm
from accounts.models import Account
from accounts.owners import preview_policy, update_session_policy
from accounts.policy import PRESETS, bounds, effective_policy
from accounts.reauth import password_prompt
from audit.chart import daily_sign_ins
from securityportal.client import client_ip
from sessions.lifecycle import Scope, revoke_account_sessions
from sessions.middleware import SIGNED_OUT_CLEAR_SITE_DATA, login_url
from sessions.signed_in import PeopleCursor, count_signed_in, signed_in_people

POLICY_PARTIAL = "accounts/owner_security.html#policy-card"


def _owned_account(request: HttpRequest) -> Account:
    """The caller's account, if the caller owns it; a member is refused (403)."""
    if not request.user.is_owner or request.user.account is None:
        raise PermissionDenied(
            "Only the owners of an account can change its security settings. "
            "Ask an owner of your account if something here needs to change."
        )
    return request.user.account


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Members are refused before anything else happens (even a password prompt)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _owned_account(request)
        return view(request, *args, **kwargs)

    return wrapper


def sudo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST runs only with a password entered within REAUTH_MINUTES; otherwise the
    owner is asked for it, and the action they asked for then goes ahead with the
    very fields they sent."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        prompt = password_prompt(request)
        if prompt is None:
            return view(request, *args, **kwargs)
        template = "accounts/reauth.html#reauth-form" if request.htmx else "accounts/reauth.html"
        return render(request, template, {"prompt": prompt})

    return wrapper


def _page_context(request: HttpRequest, account: Account, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    people = signed_in_people(account, now)
    signed_in = count_signed_in(account, now)
    current = request.session.current_row()
    return {
        "account": account,
        "bounds": bounds(),
        "presets": json.dumps(
            {"standard": [None, None], **{name: list(v) for name, v in PRESETS.items()}}
        ),
        "effective": effective_policy(account),
        "policy_form": SessionPolicyForm.for_account(account),
        "people": people,
        "signed_in": signed_in,
        "all_sessions": signed_in.sessions_phrase(),
        # This very session is live, so it is one of those counted.
        "other_sessions": signed_in.sessions_phrase(excluding=1 if current is not None else 0),
        "only_me": signed_in.exact and all(user.pk == request.user.pk for user in people.users),
        "sign_in_chart": daily_sign_ins(account=account, now=now),
        **extra,
    }


@sensitive_post_parameters("reauth_password")
@require_http_methods(["GET", "POST"])
@owner_required
@sudo_required
def account_security(request: HttpRequest) -> HttpResponse:
    """GET: the owner page. POST: the Policy card's form (HTMX swaps the card)."""
    account = _owned_account(request)
    if request.method == "GET":
        return render(request, "accounts/owner_security.html", _page_context(request, account))
    form = SessionPolicyForm(request.POST, account=account)
    if not form.is_valid():
        return _policy_answer(request, account, form)
    idle, absolute = form.cleaned_data["overrides"]
    apply_now = form.cleaned_data["apply_now"]
    previewed = form.cleaned_data["previewed"] == f"{idle}:{absolute}"
    if apply_now and not (form.cleaned_data["confirmed"] and previewed):
        # First show how many signed-in sessions the new limits would end.
        ending = preview_policy(account=account, idle_minutes=idle, absolute_minutes=absolute)
        return _policy_answer(
            request, account, form, preview=ending, previewed=f"{idle}:{absolute}"
        )
    change = update_session_policy(
        account=account,
        idle_minutes=idle,
        absolute_minutes=absolute,
        actor=request.user,
        ip=client_ip(request),
        apply_now=apply_now,
    )
    message = "Saved. The new limits apply from the next sign-in."
    if apply_now:
        noun = "session" if change.ended == 1 else "sessions"
        message = f"Saved and applied to signed-in sessions: {change.ended} {noun} ended."
    current = request.session.current_row()
    if apply_now and current is not None:
        current.refresh_from_db(fields=["revoked_at"])
        if current.revoked_at is not None:
            # The new limits ended this very session.
            return _to_login(request)
    if request.htmx:
        return _policy_answer(
            request, account, SessionPolicyForm.for_account(account), saved=message
        )
    messages.success(request, message)
    return redirect("account_security")


def _policy_answer(
    request: HttpRequest, account: Account, form: SessionPolicyForm, **extra: Any
) -> HttpResponse:
    context = {**_page_context(request, account), "policy_form": form, **extra}
    template = POLICY_PARTIAL if request.htmx else "accounts/owner_security.html"
    return render(request, template, context)


@require_GET
@owner_required
def people(request: HttpRequest) -> HttpResponse:
    """A page of "Who is signed in" (the first, or after ``?after=``, a cursor from
    the page before): its rows for "Show more" (HTMX), or a page of their own."""
    account = _owned_account(request)
    after = None
    if "after" in request.GET:
        try:
            after = PeopleCursor.parse(request.GET["after"])
        except ValueError:
            raise BadRequest("That page of signed-in people does not exist.") from None
    context = {
        "account": account,
        "people": signed_in_people(account, timezone.now(), after=after),
    }
    template = "accounts/people_rows.html" if request.htmx else "accounts/owner_people.html"
    return render(request, template, context)


@sensitive_post_parameters("reauth_password")
@require_http_methods(["GET", "POST"])
@owner_required
@sudo_required
def revoke_sessions(request: HttpRequest) -> HttpResponse:
    """POST signs out everyone in the account but this session (``scope=others``) or
    everyone including it (``all``); GET is the confirmation page for browsers
    without JavaScript (with it, a <dialog> confirms in place)."""
    account = _owned_account(request)
    if request.method == "GET":
        scope = request.GET.get("scope")
        if scope not in Scope.CHOICES:
            scope = Scope.OTHERS
        context = _page_context(request, account, scope=scope)
        return render(request, "accounts/revoke_sessions_confirm.html", context)
    scope = request.POST.get("scope")
    if scope not in Scope.CHOICES:
        # Never a default here: a form that lost its scope must not sign anyone out.
        raise BadRequest("Choose whom to sign out: others or all.")
    current = request.session.current_row()
    count = revoke_account_sessions(
        account=account, scope=scope, keep=current, actor=request.user, ip=client_ip(request)
    )
    if scope == Scope.ALL:
        return _to_login(request)
    noun = "session" if count == 1 else "sessions"
    messages.success(request, f"Signed out {count} {noun}. You are still signed in here.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("account_security"))
    return redirect("account_security")


def _to_login(request: HttpRequest) -> HttpResponse:
    """This session has ended: clear the cookie and go to the login page."""
    logout(request)
    url = login_url("signed_out")
    response = HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    # As on sign-out: the browser drops cached pages of the signed-in owner.
    response["Clear-Site-Data"] = SIGNED_OUT_CLEAR_SITE_DATA
    return response
