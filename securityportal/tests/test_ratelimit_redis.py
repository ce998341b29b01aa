"""The cache on Redis (REDIS_URL): the rate-limit and lockout counters are counted in one
round trip, each created with its expiry, and read back by the rest of Django's
cache API; one Redis client serves every operation. Uses Redis database 5
(SESSION_CACHE_TEST_REDIS_URL to change it)."""

import os
from datetime import UTC, datetime

import pytest
import redis
import time_machine
from django.core.cache import cache

from securityportal import ratelimit

REDIS_TEST_URL = os.environ.get("SESSION_CACHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_counters(settings):
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    client.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "securityportal.redis_cache.RedisCache",
            "LOCATION": REDIS_TEST_URL,
        }
    }
    yield client
    client.flushdb()


class CommandCount:
    """Counts the commands sent to Redis (one per command, pipelined or not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.round_trips = 0
        real = redis.connection.Connection.send_packed_command

        def counting(connection, command, check_health=True):
            self.round_trips += 1
            return real(connection, command, check_health)

        monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)


def test_a_hit_is_counted_in_one_round_trip_with_its_window_expiry(redis_counters, monkeypatch):
    ratelimit.hit("api-user", "7", limit=2, seconds=60)
    sent = CommandCount(monkeypatch)

    window = ratelimit.hit("api-user", "7", limit=2, seconds=60)

    assert sent.round_trips == 1
    assert (window.count, window.retry_after) == (2, None)
    [key] = redis_counters.keys("*api-user*")
    assert 0 < redis_counters.ttl(key) <= 61


def test_hits_over_the_limit_are_refused_and_peek_reads_the_same_count(redis_counters):
    for _ in range(3):
        window = ratelimit.hit("api-user", "7", limit=2, seconds=60)

    assert window.count == 3
    assert window.retry_after is not None
    assert ratelimit.peek("api-user", "7", limit=2, seconds=60).count == 3


def test_failures_are_tallied_with_an_expiry_and_can_be_taken_back(redis_counters):
    # Time held inside one minute, so both failures land in one slice.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC), tick=False):
        assert ratelimit.count_failure("pair", "alice|10.0.0.1", seconds=900) == 1
        assert ratelimit.count_failure("pair", "alice|10.0.0.1", seconds=900) == 2
        ratelimit.uncount("pair", "alice|10.0.0.1", seconds=900)

        assert ratelimit.tally("pair", "alice|10.0.0.1", seconds=900) == 1
    # One slice of the sliding window, kept as long as the window plus one slice.
    [key] = redis_counters.keys("*")
    assert 900 < redis_counters.ttl(key) <= 960


def test_one_redis_client_serves_every_operation(redis_counters):
    cache.set("a", 1)
    client = cache._cache.get_client("a", write=True)

    assert cache.get("a") == 1
    assert cache._cache.get_client("b") is client
