"""Counters in Django's cache for the sign-in lockout and the rate limits.

They live in the cache, not in process memory: with REDIS_URL set, every
server process and host counts against the same numbers. Keys are hashed, so
whatever a client typed (a username with spaces, a megabyte of text) makes a
short, valid cache key and never reaches the cache in clear."""

import contextlib
import hashlib
import math
from dataclasses import dataclass

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone


def _key(kind: str, subject: str) -> str:
    return f"sp:{kind}:{hashlib.sha256(subject.encode()).hexdigest()}"


def _now() -> float:
    return timezone.now().timestamp()


@dataclass(frozen=True)
class Window:
    """Where one subject stands in the current window of a rate: ``count`` events of
    ``limit`` allowed, and ``reset`` seconds until the window ends."""

    limit: int
    count: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int | None:
        """None while the count is within the limit; otherwise seconds to wait."""
        return None if self.count <= self.limit else self.reset

    def headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers of an answer counted in this window."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def _window(kind: str, subject: str, seconds: int) -> tuple[str, int]:
    """The current window's cache key and the seconds until it ends (at least 1)."""
    now = _now()
    window = int(now // seconds)
    return f"{_key(kind, subject)}:{window}", max(1, math.ceil((window + 1) * seconds - now))


def hit(kind: str, subject: str, *, limit: int, seconds: int) -> Window:
    """Count one event for ``subject`` in the current fixed window of ``seconds``;
    the window with this event in it (``retry_after`` is set once it is over ``limit``)."""
    key, reset = _window(kind, subject, seconds)
    return Window(limit=limit, count=_count(key, timeout=seconds + 1), reset=reset)


def peek(kind: str, subject: str, *, limit: int, seconds: int) -> Window:
    """``subject``'s current window as ``hit`` counts it, without counting an event."""
    key, reset = _window(kind, subject, seconds)
    return Window(limit=limit, count=cache.get(key, 0), reset=reset)


# A failure tally is kept in slices of its window, SLICES of them, and read as their
# sum: failures are counted over the last ``seconds`` as the window slides. A fixed
# window that began with the first failure let seven failures through in a minute
# or two around its end (three just before it closed, four just after), where
# SPEC §7 locks out any LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES.
SLICES = 15


def _slices(kind: str, subject: str, seconds: int) -> tuple[list[str], int]:
    """The keys of the slices that cover the last ``seconds``, oldest first (the
    oldest only partly, so a failure up to one slice older is counted too: never
    fewer), and one slice's length in seconds."""
    width = max(1, math.ceil(seconds / SLICES))
    now = int(_now() // width)
    base = _key(kind, subject)
    return [f"{base}:{width}:{n}" for n in range(now - SLICES, now + 1)], width


def count_failure(kind: str, subject: str, *, seconds: int) -> int:
    """Add one failure to ``subject``'s tally of the last ``seconds``; the tally so far."""
    keys, width = _slices(kind, subject, seconds)
    _count(keys[-1], timeout=seconds + width)
    return _sum(keys)


def _sum(keys: list[str]) -> int:
    return sum(cache.get_many(keys).values())


def _count(key: str, *, timeout: int) -> int:
    """Add one to the counter at ``key``, created to expire ``timeout`` seconds later;
    the new count.

    On Redis in one round trip (SET NX EX and INCR in one MULTI), where Django's
    add-then-incr costs three (SET NX, EXISTS, INCR): the API's per-user limit
    counts every API request, so this is on every signed-in API call's path."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        name = backend.make_and_validate_key(key)
        with backend._cache.get_client(name, write=True).pipeline() as pipeline:
            pipeline.set(name, 0, ex=timeout, nx=True)
            pipeline.incr(name)
            return pipeline.execute()[1]
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def tally(kind: str, subject: str, *, seconds: int) -> int:
    """``subject``'s failures in the last ``seconds``."""
    return _sum(_slices(kind, subject, seconds)[0])


def uncount(kind: str, subject: str, *, seconds: int) -> None:
    """Take one back from ``subject``'s tally (an attempt that turned out fine)."""
    keys, _ = _slices(kind, subject, seconds)
    # The slice it was counted in, moments ago: this one, or the one before if a
    # slice ended in between. Never an older one: that would take back a real failure.
    for key in reversed(keys[-2:]):
        with contextlib.suppress(ValueError):  # no failure in this slice
            if cache.decr(key) >= 0:
                return
            cache.incr(key)


def forget(kind: str, subject: str, *, seconds: int) -> None:
    cache.delete_many(_slices(kind, subject, seconds)[0])


def lock(kind: str, subject: str, *, seconds: int) -> None:
    """Refuse ``subject`` for ``seconds`` from now."""
    cache.set(_key(f"{kind}-lock", subject), _now() + seconds, timeout=seconds)


def locked_for(kind: str, subject: str) -> int | None:
    """Seconds until ``subject``'s lock ends, or None when it is not locked."""
    until = cache.get(_key(f"{kind}-lock", subject))
    if until is None:
        return None
    remaining = math.ceil(until - _now())
    return remaining if remaining > 0 else None
