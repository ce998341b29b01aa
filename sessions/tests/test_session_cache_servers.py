"""Real server processes sharing one PostgreSQL database and one Redis: a session revoked
through one process is refused by another on its very next request, although both
had it cached (SPEC §4 rule 4); and a process that cannot reach Redis serves from
the database and refuses revoked sessions too."""

import os

import pytest
import redis

from conftest import empty_redis
from securityportal.tests.servers import (
    api_signed_in,
    assert_browser_refused,
    browser_session_id,
    browser_signed_in,
    scratch_database,
    servers_in,
)

pytestmark = pytest.mark.postgres_only

REDIS_TEST_URL = os.environ.get("SESSION_CACHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "tangerine lighthouse gravel"


@pytest.fixture(scope="module")
def database_url():
    """A PostgreSQL database of its own, migrated, with alice owning Acme."""
    with scratch_database("two_servers", PASSWORD) as url:
        yield url


@pytest.fixture(scope="module")
def shared_redis():
    with empty_redis(REDIS_TEST_URL) as client:
        yield client


@pytest.fixture(scope="module")
def servers(database_url, shared_redis, tmp_path_factory):
    """Two processes sharing the database and Redis, and a third whose Redis is down
    (nothing listens on its port)."""
    with servers_in(tmp_path_factory.mktemp("servers")) as started:
        first = started.start(database_url, REDIS_TEST_URL)
        second = started.start(database_url, REDIS_TEST_URL)
        without_redis = started.start(database_url, "redis://127.0.0.1:1/5")
        yield first, second, without_redis


def cached_entries(redis_client: redis.Redis, kind: str) -> list[bytes]:
    return redis_client.keys(f"*session:{kind}:*:v*")


def test_a_session_revoked_through_one_process_is_refused_by_another_at_once(
    servers, shared_redis
):
    first, second, _ = servers
    browser = browser_signed_in(first, PASSWORD)
    api, api_session_id = api_signed_in(second, PASSWORD)
    # Both processes serve both sessions, twice: the second time from the cache.
    for _ in range(2):
        for server in (first, second):
            assert browser.get(f"{server.url}/session/status/").status == 200
            assert api.get(f"{server.url}/api/auth/me").status == 200
    assert len(cached_entries(shared_redis, "b")) == 1
    assert len(cached_entries(shared_redis, "a")) == 1

    # The browser session, revoked through the first process (by the API client)...
    revoked = api.delete(f"{first.url}/api/auth/sessions/{browser_session_id(api, first)}")
    assert revoked.status == 204, first.log_tail()
    # ...is refused by the second on its very next request (and by the first).
    stolen_copy = browser.copy()
    assert_browser_refused(browser, second)
    assert_browser_refused(stolen_copy, first)

    # The API session, revoked through the second process by another API session...
    other_api, _ = api_signed_in(first, PASSWORD)
    assert other_api.get(f"{second.url}/api/auth/me").status == 200
    assert other_api.get(f"{first.url}/api/auth/me").status == 200
    revoked = other_api.delete(f"{second.url}/api/auth/sessions/{api_session_id}")
    assert revoked.status == 204, second.log_tail()
    # ...is refused by the first on its very next request.
    answer = api.get(f"{first.url}/api/auth/me")
    assert answer.status == 401
    assert answer.json()["code"] == "session_revoked"
    assert api.get(f"{second.url}/api/auth/me").status == 401
    # The session that did the revoking is untouched.
    assert other_api.get(f"{first.url}/api/auth/me").status == 200


def test_a_process_without_redis_serves_from_the_database_and_refuses_revoked_sessions(
    servers, shared_redis
):
    first, _, without_redis = servers
    browser = browser_signed_in(first, PASSWORD)
    api, api_session_id = api_signed_in(first, PASSWORD)
    for _ in range(2):
        for server in (first, without_redis):
            assert browser.get(f"{server.url}/session/status/").status == 200
            assert api.get(f"{server.url}/api/auth/me").status == 200, server.log_tail()

    revoked = api.delete(f"{first.url}/api/auth/sessions/{browser_session_id(api, first)}")
    assert revoked.status == 204
    assert_browser_refused(browser, without_redis)

    other_api, _ = api_signed_in(first, PASSWORD)
    assert other_api.delete(f"{first.url}/api/auth/sessions/{api_session_id}").status == 204
    assert api.get(f"{without_redis.url}/api/auth/me").status == 401
    assert other_api.get(f"{without_redis.url}/api/auth/me").status == 200
