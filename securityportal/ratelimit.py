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


def count_failure(kind: str, subject: str, *, seconds: int) -> int:
    """Add one failure to ``subject``'s tally, which is forgotten ``seconds`` after its
    first failure. The tally so far."""
    return _count(_key(kind, subject), timeout=seconds)


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


def tally(kind: str, subject: str) -> int:
    return cache.get(_key(kind, subject), 0)


def uncount(kind: str, subject: str) -> None:
    """Take one back from ``subject``'s tally (an attempt that turned out fine)."""
    with contextlib.suppress(ValueError):  # already forgotten
        cache.decr(_key(kind, subject))


def forget(kind: str, subject: str) -> None:
    cache.delete(_key(kind, subject))


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
