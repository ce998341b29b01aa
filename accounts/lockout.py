"""The sign-in lockout and rate limit of SPEC §7, shared by the browser and the API.

- A username and an IP together are locked for LOGIN_LOCKOUT_MINUTES after
  LOGIN_FAILURE_LIMIT failures within that time (password guessing); other IPs
  and other usernames are unaffected.
- A username is locked from every IP once it collects
  LOGIN_ACCOUNT_FAILURES_PER_HOUR failures in an hour (guessing from many IPs).
- One IP may attempt LOGIN_RATE_PER_IP sign-ins, successful or not (credential
  stuffing across many usernames).

The username is the account's canonical one (an e-mail or another letter case
counts against the same tally), or the identifier as typed, lowercased, when no
such user exists, so unknown names are locked exactly like known ones.
"""

from dataclasses import dataclass

from django.conf import settings

from securityportal import ratelimit

_PAIR = "signin-pair"
_USERNAME = "signin-user"
_IP = "signin-ip"
_HOUR = 3600


class SignInRefused(Exception):
    """A sign-in attempt refused. ``reason`` is a LoginEvent failure reason;
    ``retry_after`` (seconds) is set when waiting helps."""

    BAD_CREDENTIALS = "bad_credentials"
    LOCKED_OUT = "locked_out"
    RATE_LIMITED = "rate_limited"
    INACTIVE = "inactive"

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    username: str
    ip: str | None

    @property
    def pair(self) -> str:
        return f"{self.username}\n{self.ip or '-'}"


def check(attempt: Attempt) -> None:
    """Raise SignInRefused when ``attempt`` may not even be tried; this runs before
    any password is hashed, so a locked-out guess costs no hashing time. Counts the
    attempt against its IP's rate."""
    if attempt.ip is not None:
        requests, seconds = settings.LOGIN_RATE_PER_IP
        wait = ratelimit.hit(_IP, attempt.ip, limit=requests, seconds=seconds)
        if wait is not None:
            raise SignInRefused(SignInRefused.RATE_LIMITED, wait)
    wait = max(
        ratelimit.locked_for(_PAIR, attempt.pair) or 0,
        ratelimit.locked_for(_USERNAME, attempt.username) or 0,
    )
    if wait:
        raise SignInRefused(SignInRefused.LOCKED_OUT, wait)


def record_failure(attempt: Attempt) -> None:
    """Count a wrong password; lock the pair or the username once it reaches its limit."""
    lockout_seconds = settings.LOGIN_LOCKOUT_MINUTES * 60
    failures = ratelimit.count_failure(_PAIR, attempt.pair, seconds=lockout_seconds)
    if failures >= settings.LOGIN_FAILURE_LIMIT:
        ratelimit.lock(_PAIR, attempt.pair, seconds=lockout_seconds)
        ratelimit.forget(_PAIR, attempt.pair)
    failures = ratelimit.count_failure(_USERNAME, attempt.username, seconds=_HOUR)
    if failures >= settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR:
        ratelimit.lock(_USERNAME, attempt.username, seconds=_HOUR)
        ratelimit.forget(_USERNAME, attempt.username)


def record_success(attempt: Attempt) -> None:
    """The right password from this IP: its earlier typos there are forgiven."""
    ratelimit.forget(_PAIR, attempt.pair)
