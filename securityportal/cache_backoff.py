"""Caches in Redis that a request can do without (the session cache, the sign-in
charts' kept days, the lockout and rate counters, whose work then falls to the
database or is waived): once one fails, this process leaves it alone for a while.

A Redis that hangs costs each operation its socket timeout (0.5 s): without the
pause, every request that reads such a cache would wait that long for it."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

T = TypeVar("T")

logger = logging.getLogger(__name__)

# What a cache in Redis raises when the server is down, hung, or refuses a write
# (full, under maxmemory-policy noeviction).
CACHE_ERRORS = (RedisError, OSError)
# After a cache failed, this process does without it for this long instead of
# waiting on an unreachable server again for every request.
RETRY_AFTER_FAILURE_SECONDS = 5

# The time.monotonic() until which each cache alias is left alone.
_unreachable_until: dict[str, float] = {}


def reachable(alias: str) -> bool:
    """False while the cache ``alias`` is left alone after a failure in this process."""
    return time.monotonic() >= _unreachable_until.get(alias, 0.0)


def failed(alias: str) -> None:
    """The cache ``alias`` just failed: leave it alone for RETRY_AFTER_FAILURE_SECONDS."""
    _unreachable_until[alias] = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS


def call(alias: str, action: Callable[[], T], *, otherwise: T, failure: str) -> T:
    """``action()``, which uses the cache ``alias``; ``otherwise`` while that cache is
    left alone, or when it fails now (logged as ``failure``, and left alone from then)."""
    if not reachable(alias):
        return otherwise
    try:
        return action()
    except CACHE_ERRORS as error:
        failed(alias)
        logger.warning("%s: %s", failure, error)
        return otherwise
