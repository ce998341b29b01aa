"""The one way in: every sign-in, browser or API, is checked here.

``sign_in`` applies the lockout and rate limits before any password is hashed,
then Django's ``authenticate``. Each channel then completes the sign-in its own
way (``auth.login`` for a browser, an API session for a client), and both send
``user_logged_in``. Every attempt, refused or not, reaches the audit trail
through ``user_login_failed`` / ``user_logged_in``: Django sends the first for a
wrong password; this module sends it for the refusals Django never sees.
"""

import math
import unicodedata
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, user_login_failed
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts import lockout
from accounts.lockout import SignInRefused
from accounts.models import User
from audit import events
from audit.models import AuditEvent, LoginEvent
from securityportal import cache_backoff, ratelimit
from securityportal.client import client_ip

# The cache holding the lockout and rate counters.
COUNTERS = DEFAULT_CACHE_ALIAS

BROWSER = "browser"
API = "api"
# The audit action of a wrong guess at one's own password from inside a session:
# written by confirm_password, counted by lockout_from_trail.
CONFIRM_FAILED = "password.confirm_failed"


def _as_stored(identifier: str) -> str:
    """As Django's UsernameField: usernames are stored NFKC-normalised, so a name typed
    in full-width letters (an input method's) is the same name, and its guesses count
    against the same lockout. An e-mail address (with "@") is matched as it is
    stored, unnormalised: an address with a long s and one with an s may be two people."""
    if "@" in identifier:
        return identifier
    return unicodedata.normalize("NFKC", identifier)


def _attempt(request: HttpRequest, identifier: str) -> lockout.Attempt:
    user = User.objects.for_identifier(identifier)
    # One tally per person: "BOB", "bob" and bob's e-mail address all count as bob.
    username = user.username.lower() if user is not None else identifier.strip().lower()
    return lockout.Attempt(username=username, ip=client_ip(request))


def lockout_from_trail(attempt: lockout.Attempt) -> int | None:
    """Seconds the pair of ``attempt`` stays locked out, counted from the sign-in trail
    instead of the shared counters (which cannot be reached): LOGIN_FAILURE_LIMIT
    wrong passwords for this user from this IP within LOGIN_LOCKOUT_MINUTES, with no
    successful sign-in between, lock it until LOGIN_LOCKOUT_MINUTES after the last.

    A wrong guess at one's own password from inside a session ("Confirm it's you",
    a password change: ``password.confirm_failed``) counts as a wrong password
    here, as it does in the counters: a stolen session gets no more guesses while
    they are down.

    An unknown username is locked out the same way, by the attempts recorded under
    the name as typed: answered 401 for ever while a real one gets 429, the lockout
    would tell which names exist.

    A Redis outage therefore lifts no lockout of an address. The trail matches the
    address itself, where the counters take an IPv6 client's whole /64, and the
    per-IP rate and the hourly cap per username need the counters: those are waived
    for the outage (docs/DECISIONS.md)."""
    if attempt.ip is None:
        return None
    user = User.objects.for_identifier(attempt.username)
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    limit = settings.LOGIN_FAILURE_LIMIT
    bad_credentials = Q(failure_reason=LoginEvent.FailureReason.BAD_CREDENTIALS)
    sign_ins = LoginEvent.objects.filter(ip=attempt.ip, created_at__gt=since).order_by(
        "-created_at"
    )
    if user is None:
        # The names compared as the counters compare them (Python's lower(), which
        # neither SQLite's nor every PostgreSQL locale's LOWER matches beyond ASCII).
        typed = sign_ins.filter(bad_credentials, user=None).values_list("username", "created_at")
        sign_ins = [
            (False, moment) for name, moment in typed if name.strip().lower() == attempt.username
        ][:limit]
    else:
        sign_ins = sign_ins.filter(Q(success=True) | bad_credentials, user=user).values_list(
            "success", "created_at"
        )[:limit]
    guesses = (
        []
        if user is None
        else AuditEvent.objects.filter(
            user=user,
            action=CONFIRM_FAILED,
            ip=attempt.ip,
            created_at__gt=since,
            details__reason=SignInRefused.BAD_CREDENTIALS,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    recent = sorted(
        [*sign_ins, *((False, moment) for moment in guesses)],
        key=lambda outcome: outcome[1],
        reverse=True,
    )[:limit]
    if len(recent) < limit or any(success for success, _ in recent):
        return None
    _, last_failure = recent[0]
    return max(1, math.ceil((last_failure - since).total_seconds()))


def _admit(attempt: lockout.Attempt) -> None:
    """Refuse ``attempt`` if its pair is locked out or over a rate: by the shared
    counters, or by the trail while they cannot be reached. A Redis that hangs is
    left alone for a few seconds after it failed, so that an attacker's burst of
    attempts does not make every sign-in wait on it."""

    def admitted() -> bool:
        lockout.admit(attempt)
        return True

    if cache_backoff.call(
        COUNTERS,
        admitted,
        otherwise=False,
        failure="Sign-in counters unreachable, lockout read from the trail",
    ):
        return
    wait = lockout_from_trail(attempt)
    if wait is not None:
        raise SignInRefused(SignInRefused.LOCKED_OUT, wait)


def _count(record: Callable[[lockout.Attempt], None], attempt: lockout.Attempt) -> None:
    """``record`` the outcome in the shared counters, if they can be reached: the
    attempt's LoginEvent is what ``lockout_from_trail`` counts when they cannot."""
    cache_backoff.call(
        COUNTERS,
        lambda: record(attempt),
        otherwise=None,
        failure="Sign-in counters unreachable, outcome not counted",
    )


def sign_in_rate_window(ip: str | None) -> ratelimit.Window | None:
    """The per-IP sign-in rate, for an answer's rate headers; None while the
    counters cannot be reached (the answer then has none)."""
    return cache_backoff.call(
        COUNTERS,
        lambda: lockout.sign_in_rate(ip),
        otherwise=None,
        failure="Sign-in counters unreachable, no rate headers",
    )


def _refuse(request: HttpRequest, identifier: str, channel: str, refused: SignInRefused) -> None:
    _record_refusal(request, identifier, channel, refused)
    raise refused


def _record_refusal(
    request: HttpRequest, identifier: str, channel: str, refused: SignInRefused
) -> None:
    user_login_failed.send(
        sender=__name__,
        credentials={"username": identifier, "channel": channel},
        request=request,
        reason=refused.reason,
    )


@sensitive_variables("password")
def sign_in(request: HttpRequest, *, identifier: str, password: str, channel: str) -> User:
    """The user ``identifier`` (username or e-mail) and ``password`` name, or SignInRefused.

    A wrong password, an unknown user and a deactivated user are all refused as
    ``bad_credentials`` to the caller (no user enumeration); the audit trail
    records the deactivated case as ``inactive``."""
    identifier = _as_stored(identifier)
    attempt = _attempt(request, identifier)
    try:
        _admit(attempt)
    except SignInRefused as refused:
        _refuse(request, identifier, channel, refused)
    # ``channel`` travels with the credentials so the audit trail can tell the
    # browser from the API in Django's own user_login_failed.
    user = authenticate(request, username=identifier, password=password, channel=channel)
    if user is None:
        _count(lockout.record_failure, attempt)
        raise SignInRefused(SignInRefused.BAD_CREDENTIALS)
    _count(lockout.record_success, attempt)
    return user


def record_stale_sign_in(request: HttpRequest, *, identifier: str, channel: str) -> SignInRefused:
    """Record a sign-in whose password changed, or whose user was deactivated, while
    the password was being checked (sessions.lifecycle's CredentialsChanged): in the
    trail and counted as a wrong password, which the one presented now is. Returns
    the refusal to answer with."""
    refused = SignInRefused(SignInRefused.BAD_CREDENTIALS)
    identifier = _as_stored(identifier)
    _count(lockout.record_failure, _attempt(request, identifier))
    _record_refusal(request, identifier, channel, refused)
    return refused


# Why a signed-in user is asked for their password again.
PASSWORD_CHANGE = "password_change"
REAUTHENTICATION = "reauthentication"


@sensitive_variables("password")
def confirm_password(request: HttpRequest, *, user: User, password: str, purpose: str) -> None:
    """Check a signed-in user's own password (to change it, or to re-authenticate
    before a sensitive action, as ``purpose`` says), or raise SignInRefused.

    Under the same lockout as signing in: someone holding a stolen session cookie
    or token gets LOGIN_FAILURE_LIMIT guesses at the password, not unlimited ones,
    and those guesses lock signing in from that IP too. Each refusal is a
    ``password.confirm_failed`` audit row: a wrong guess from inside a session is
    what a thief holding it makes, and the lockout it leads to is explained in the
    trail. Call it outside a transaction, as every caller does: a transaction that
    the refusal rolls back would take the row with it."""
    attempt = lockout.Attempt(username=user.username.lower(), ip=client_ip(request))
    try:
        _admit(attempt)
        if not user.check_password(password):
            _count(lockout.record_failure, attempt)
            raise SignInRefused(SignInRefused.BAD_CREDENTIALS)
    except SignInRefused as refused:
        events.record(
            CONFIRM_FAILED,
            user=user,
            actor=user,
            target=f"user:{user.pk}",
            details={"purpose": purpose, "reason": refused.reason},
            ip=attempt.ip,
        )
        raise
    _count(lockout.record_success, attempt)
