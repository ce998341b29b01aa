"""The sign-in lockout and rate limit of SPEC §7, shared by the browser and the API.

- A username and an IP together are locked for LOGIN_LOCKOUT_MINUTES after
  LOGIN_FAILURE_LIMIT failures within any LOGIN_LOCKOUT_MINUTES (password
  guessing); other IPs and other usernames are unaffected.
- A username is locked from every IP once it collects
  LOGIN_ACCOUNT_FAILURES_PER_HOUR failures within any hour (guessing from many IPs).
- One IP may attempt LOGIN_RATE_PER_IP sign-ins, successful or not (credential
  stuffing across many usernames).

The two failure tallies slide (``ratelimit.count_failure``): they count the failures
of the last LOGIN_LOCKOUT_MINUTES or hour, not of a window that began with the first.

The username is the account's canonical one (an e-mail or another letter case
counts against the same tally), or the identifier as typed, lowercased, when no
such user exists, so unknown names are locked exactly like known ones. An "IP" is
an IPv4 address or an IPv6 /64 (``network_of``).
"""

import math
from dataclasses import dataclass
from ipaddress import ip_network

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


def wait_text(seconds: int) -> str:
    """ "1 minute", "15 minutes": how long a refused client should wait, rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal_text(refused: SignInRefused) -> str:
    """What a person or a client is told about a refusal that waiting will end."""
    wait = wait_text(refused.retry_after or 60)
    if refused.reason == SignInRefused.RATE_LIMITED:
        return f"Too many sign-in attempts from your network. Try again in {wait}."
    return f"Too many failed attempts. Try again in {wait}."


def network_of(ip: str) -> str:
    """What sign-ins from ``ip`` are counted against: an IPv4 address itself, an IPv6
    address's /64. One host holds a whole /64 (a home line, a cloud server):
    counted by address, it could send every guess from another of its 2**64
    addresses and never meet the per-IP rate or the lockout."""
    if ":" not in ip:
        return ip
    return str(ip_network(f"{ip}/64", strict=False))


@dataclass(frozen=True)
class Attempt:
    username: str
    ip: str | None

    @property
    def pair(self) -> str:
        return f"{self.username}\n{network_of(self.ip) if self.ip else '-'}"


def _lockout_seconds() -> int:
    # Read on each call: tests and a settings reload change it.
    return settings.LOGIN_LOCKOUT_MINUTES * 60


def admit(attempt: Attempt) -> None:
    """Let ``attempt`` have its password checked, or raise SignInRefused. This runs
    before any password is hashed, so a refused guess costs no hashing time.

    The attempt is counted as a failure up front, with the cache's atomic
    increment: a burst of parallel guesses cannot all be admitted before the
    first of them is counted (a race that would let fifty simultaneous requests
    try fifty passwords). ``record_success`` takes the count back."""
    if attempt.ip is not None:
        requests, seconds = settings.LOGIN_RATE_PER_IP
        wait = ratelimit.hit(
            _IP, network_of(attempt.ip), limit=requests, seconds=seconds
        ).retry_after
        if wait is not None:
            raise SignInRefused(SignInRefused.RATE_LIMITED, wait)
    wait = max(
        ratelimit.locked_for(_PAIR, attempt.pair) or 0,
        ratelimit.locked_for(_USERNAME, attempt.username) or 0,
    )
    if wait:
        raise SignInRefused(SignInRefused.LOCKED_OUT, wait)
    lockout_seconds = _lockout_seconds()
    pair = ratelimit.count_failure(_PAIR, attempt.pair, seconds=lockout_seconds)
    username = ratelimit.count_failure(_USERNAME, attempt.username, seconds=_HOUR)
    if pair > settings.LOGIN_FAILURE_LIMIT:
        raise SignInRefused(SignInRefused.LOCKED_OUT, lockout_seconds)
    if username > settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR:
        raise SignInRefused(SignInRefused.LOCKED_OUT, _HOUR)


def sign_in_rate(ip: str | None) -> ratelimit.Window | None:
    """Where ``ip`` stands against LOGIN_RATE_PER_IP, without counting an attempt:
    what a sign-in answer tells the client in its X-RateLimit-* headers."""
    if ip is None:
        return None
    requests, seconds = settings.LOGIN_RATE_PER_IP
    return ratelimit.peek(_IP, network_of(ip), limit=requests, seconds=seconds)


def record_failure(attempt: Attempt) -> None:
    """The admitted attempt was a wrong password (already counted): lock the pair
    or the username once its tally reaches the limit."""
    lockout_seconds = _lockout_seconds()
    pair = ratelimit.tally(_PAIR, attempt.pair, seconds=lockout_seconds)
    if pair >= settings.LOGIN_FAILURE_LIMIT:
        ratelimit.lock(_PAIR, attempt.pair, seconds=lockout_seconds)
        ratelimit.forget(_PAIR, attempt.pair, seconds=lockout_seconds)
    username = ratelimit.tally(_USERNAME, attempt.username, seconds=_HOUR)
    if username >= settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR:
        ratelimit.lock(_USERNAME, attempt.username, seconds=_HOUR)
        ratelimit.forget(_USERNAME, attempt.username, seconds=_HOUR)


def record_success(attempt: Attempt) -> None:
    """The right password: this attempt was no failure, and the IP's earlier typos
    for this username are forgiven."""
    ratelimit.forget(_PAIR, attempt.pair, seconds=_lockout_seconds())
    ratelimit.uncount(_USERNAME, attempt.username, seconds=_HOUR)
