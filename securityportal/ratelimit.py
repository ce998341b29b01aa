"""Counters in Django's cache for the sign-in lockout and the rate limits.

They live in the cache, not in process memory: with REDIS_URL set, every
server process and host counts against the same numbers. Keys are hashed, so
whatever a client typed (a username with spaces, a megabyte of text) makes a
short, valid cache key and never reaches the cache in clear."""

import contextlib
import hashlib
import math

from django.core.cache import cache
from django.utils import timezone


def _key(kind: str, subject: str) -> str:
    return f"sp:{kind}:{hashlib.sha256(subject.encode()).hexdigest()}"


def _now() -> float:
    return timezone.now().timestamp()


def hit(kind: str, subject: str, *, limit: int, seconds: int) -> int | None:
    """Count one event for ``subject`` in the current fixed window of ``seconds``.

    None while the count is within ``limit``; otherwise how many seconds until
    the window ends (for Retry-After)."""
    now = _now()
    window = int(now // seconds)
    key = f"{_key(kind, subject)}:{window}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's key expired between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * seconds - now))


def count_failure(kind: str, subject: str, *, seconds: int) -> int:
    """Add one failure to ``subject``'s tally, which is forgotten ``seconds`` after its
    first failure. The tally so far."""
    key = _key(kind, subject)
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=seconds)
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
