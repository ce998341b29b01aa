"""Scale-out: two gunicorn instances on different ports over one PostgreSQL database and
one Redis, as two hosts behind a load balancer. Nothing one of them decides may live
only in its own memory: a revoke, a lockout and a policy change made through one
hold on the other from its very next request."""

import os
from datetime import datetime, timedelta

import pytest

from conftest import empty_redis, run_python
from securityportal.tests.servers import (
    api_sign_in,
    api_signed_in,
    assert_browser_refused,
    browser_session_id,
    browser_sign_in,
    browser_signed_in,
    scratch_database,
    servers_in,
)

pytestmark = pytest.mark.postgres_only

# Redis database 9, emptied by the tests (SCALE_TEST_REDIS_URL to change it).
REDIS_TEST_URL = os.environ.get("SCALE_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
PASSWORD = "tangerine lighthouse gravel"
FAILURE_LIMIT = 5


@pytest.fixture(scope="module")
def database_url():
    """Acme with alice (owner) and bob (member), in a database of its own."""
    with scratch_database("scale_out", PASSWORD) as url:
        created = run_python(
            "manage.py", "create_user", "bob", "--account=Acme", "--email=bob@acme.example",
            "--noinput", DATABASE_URL=url, PORTAL_PASSWORD=PASSWORD,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        yield url


@pytest.fixture(scope="module")
def instances(database_url, tmp_path_factory):
    """Instances A and B: the same database, the same Redis, nothing else shared."""
    with empty_redis(REDIS_TEST_URL), servers_in(tmp_path_factory.mktemp("scale")) as started:
        env = {"LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT)}
        yield (
            started.start(database_url, REDIS_TEST_URL, **env),
            started.start(database_url, REDIS_TEST_URL, **env),
        )


def minutes_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)) / timedelta(minutes=1)


def test_a_browser_session_and_a_token_revoked_through_b_are_refused_by_a_at_once(instances):
    a, b = instances
    browser = browser_signed_in(a, PASSWORD)
    api, api_session_id = api_signed_in(a, PASSWORD)
    # A has served (and cached) both before they are revoked elsewhere.
    assert browser.get(f"{a.url}/session/status/").status == 200
    assert api.get(f"{a.url}/api/auth/me").status == 200
    manager, _ = api_signed_in(b, PASSWORD)

    revoked = manager.delete(f"{b.url}/api/auth/sessions/{browser_session_id(manager, b)}")
    assert revoked.status == 204, b.log_tail()
    revoked = manager.delete(f"{b.url}/api/auth/sessions/{api_session_id}")
    assert revoked.status == 204, b.log_tail()

    assert_browser_refused(browser, a)
    refused = api.get(f"{a.url}/api/auth/me")
    assert refused.status == 401
    assert refused.json()["code"] == "session_revoked"
    assert manager.get(f"{a.url}/api/auth/me").status == 200


def test_failures_through_a_lock_the_pair_out_on_b(instances):
    a, b = instances
    for _ in range(FAILURE_LIMIT):
        failed = api_sign_in(a, "not the password", username="bob")
        assert failed.status == 401, a.log_tail()

    # The right password, through the other instance: still locked out.
    locked = api_sign_in(b, PASSWORD, username="bob")
    assert locked.status == 429, b.log_tail()
    assert locked.json()["code"] == "locked_out"
    assert int(locked.headers["Retry-After"]) > 0
    # The browser shares the counter: its form says when to come back.
    _, form = browser_sign_in(b, PASSWORD, username="bob")
    assert form.status == 429
    assert b"Too many failed attempts. Try again in 15 minutes." in form.body
    assert api_sign_in(a, PASSWORD, username="bob").status == 429
    # Another user from the same address is unaffected.
    assert api_sign_in(b, PASSWORD, username="alice").status == 200


def test_a_policy_change_through_a_applies_to_the_next_sign_in_on_b(instances):
    a, b = instances
    before, before_id = api_signed_in(b, PASSWORD)
    owner, _ = api_signed_in(a, PASSWORD)

    changed = owner.send_json(
        "PATCH", f"{a.url}/api/accounts/me/security", {"idle_minutes": 15, "absolute_minutes": 480}
    )
    assert changed.status == 200, a.log_tail()

    after, after_id = api_signed_in(b, PASSWORD)
    browser = browser_signed_in(b, PASSWORD)
    listed = {row["id"]: row for row in after.get(f"{b.url}/api/auth/sessions").json()}
    for session_id in (after_id, browser_session_id(after, b)):
        row = listed[session_id]
        assert minutes_between(row["last_seen_at"], row["idle_expires_at"]) == 15
        assert minutes_between(row["created_at"], row["absolute_expires_at"]) == 480
    # A session signed in before the change keeps the limits it signed in with.
    row = listed[before_id]
    assert minutes_between(row["last_seen_at"], row["idle_expires_at"]) == 60
    assert minutes_between(row["created_at"], row["absolute_expires_at"]) == 10080
    assert before.get(f"{b.url}/api/auth/me").status == 200
    assert browser.get(f"{b.url}/session/status/").status == 200
