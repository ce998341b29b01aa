"""The one way in: every sign-in, browser or API, is checked here.

``sign_in`` applies the lockout and rate limits before any password is hashed,
then Django's ``authenticate``. Each channel then completes the sign-in its own
way (``auth.login`` for a browser, an API session for a client), and both send
``user_logged_in``. Every attempt, refused or not, reaches the audit trail
through ``user_login_failed`` / ``user_logged_in``: Django sends the first for a
wrong password; this module sends it for the refusals Django never sees.
"""

from django.contrib.auth import authenticate, user_login_failed
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from accounts import lockout
from accounts.lockout import SignInRefused
from accounts.models import User
from securityportal.client import client_ip

BROWSER = "browser"
API = "api"


def _attempt(request: HttpRequest, identifier: str) -> lockout.Attempt:
    user = User.objects.for_identifier(identifier)
    # One tally per person: "BOB", "bob" and bob's e-mail address all count as bob.
    username = user.username.lower() if user is not None else identifier.strip().lower()
    return lockout.Attempt(username=username, ip=client_ip(request))


def _refuse(request: HttpRequest, identifier: str, channel: str, refused: SignInRefused) -> None:
    user_login_failed.send(
        sender=__name__,
        credentials={"username": identifier, "channel": channel},
        request=request,
        reason=refused.reason,
    )
    raise refused


@sensitive_variables("password")
def sign_in(request: HttpRequest, *, identifier: str, password: str, channel: str) -> User:
    """The user ``identifier`` (username or e-mail) and ``password`` name, or SignInRefused.

    A wrong password, an unknown user and a deactivated user are all refused as
    ``bad_credentials`` to the caller (no user enumeration); the audit trail
    records the deactivated case as ``inactive``."""
    attempt = _attempt(request, identifier)
    try:
        lockout.admit(attempt)
    except SignInRefused as refused:
        _refuse(request, identifier, channel, refused)
    # ``channel`` travels with the credentials so the audit trail can tell the
    # browser from the API in Django's own user_login_failed.
    user = authenticate(request, username=identifier, password=password, channel=channel)
    if user is None:
        lockout.record_failure(attempt)
        raise SignInRefused(SignInRefused.BAD_CREDENTIALS)
    lockout.record_success(attempt)
    return user


@sensitive_variables("password")
def confirm_password(request: HttpRequest, *, user: User, password: str) -> None:
    """Check a signed-in user's own password (to change it), or raise SignInRefused.

    Under the same lockout as signing in: someone holding a stolen session cookie
    or token gets LOGIN_FAILURE_LIMIT guesses at the password, not unlimited ones,
    and those guesses lock signing in from that IP too."""
    attempt = lockout.Attempt(username=user.username.lower(), ip=client_ip(request))
    lockout.admit(attempt)
    if not user.check_password(password):
        lockout.record_failure(attempt)
        raise SignInRefused(SignInRefused.BAD_CREDENTIALS)
    lockout.record_success(attempt)
