"""The session cache (Redis): a signed-in request on a hit makes no SQL statement, and
every way a session ends is refused on its very next request, cached or not.

These tests use Redis database 5 (SESSION_CACHE_TEST_REDIS_URL to change it) and
commit their transactions, as a server does, so invalidations run on commit."""

import os
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.owners import update_session_policy
from conftest import PASSWORD, api_login, bearer, browser_for, empty_redis
from sessions import cache as session_cache
from sessions.digest import sha256_hex
from sessions.lifecycle import Scope, revoke_account_sessions, revoke_other_sessions
from sessions.models import RevokedReason, Session
from sessions.store import SessionStore

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_TEST_URL = os.environ.get("SESSION_CACHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
# Nothing listens here: connections are refused at once.
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/5"
WRITES = ("INSERT", "UPDATE", "DELETE")


def redis_cache(location: str) -> dict:
    return {
        "BACKEND": "securityportal.redis_cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "TIMEOUT": 60,
    }


@pytest.fixture
def redis_server():
    with empty_redis(REDIS_TEST_URL) as client:
        yield client


@pytest.fixture
def session_cache_on(settings, redis_server):
    """The portal as configured with REDIS_URL: sessions cached in Redis database 5."""
    settings.CACHES = {**settings.CACHES, session_cache.ALIAS: redis_cache(REDIS_TEST_URL)}
    return redis_server


@pytest.fixture
def take_redis_down(settings):
    """Call to make Redis unreachable from here on, as for a server configured with
    REDIS_URL whose Redis has stopped (sign-in's counters included)."""

    def take_down() -> None:
        settings.CACHES = {
            "default": redis_cache(UNREACHABLE_REDIS_URL),
            session_cache.ALIAS: redis_cache(UNREACHABLE_REDIS_URL),
        }

    return take_down


def cookie_key(browser: Client) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def row_of(browser: Client) -> Session:
    return Session.objects.get(key_hash=sha256_hex(cookie_key(browser)))


def statements(client: Client, path: str) -> tuple[int, list[dict]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response.status_code, queries.captured_queries


def assert_signed_in(client: Client, path: str) -> None:
    status, _ = statements(client, path)
    assert status == 200


def assert_refused(client: Client, path: str) -> None:
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code == 401, response.content
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?reason=session_expired")


def cached_browser(user) -> Client:
    """A browser signed in as ``user`` whose session is cached: its requests make no SQL."""
    browser = browser_for(user)
    assert statements(browser, "/session/status/")[0] == 200
    status, queries = statements(browser, "/session/status/")
    assert (status, queries) == (200, [])
    return browser


def cached_api_client(user) -> tuple[Client, dict]:
    tokens = api_login(user)
    client = bearer(tokens["access"])
    assert statements(client, "/api/auth/me")[0] == 200
    status, queries = statements(client, "/api/auth/me")
    assert (status, queries) == (200, [])
    return client, tokens


# --- what a request costs ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/session/status/", "/logout/"])
def test_a_browser_request_makes_one_statement_on_a_miss_and_none_on_a_hit(
    alice, session_cache_on, path
):
    browser = browser_for(alice)

    miss = statements(browser, path)
    hit = statements(browser, path)

    assert miss[0] == hit[0] == 200
    assert len(miss[1]) == 1
    assert hit[1] == []


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/auth/sessions"])
def test_an_api_call_reads_no_session_row_on_a_hit(alice, session_cache_on, path):
    client = bearer(api_login(alice)["access"])

    miss = statements(client, path)
    hit = statements(client, path)

    assert miss[0] == hit[0] == 200
    # /api/auth/sessions reads its list on every call; only the session is cached.
    own_queries = 1 if path == "/api/auth/sessions" else 0
    assert len(miss[1]) == 1 + own_queries
    assert len(hit[1]) == own_queries
    assert all("accounts_user" not in q["sql"] for q in hit[1])


def test_the_security_page_on_a_hit_reads_only_its_lists(alice, session_cache_on):
    browser = cached_browser(alice)

    status, queries = statements(browser, "/settings/security/")

    assert status == 200
    # The sessions card's list, the sign-in chart's counts and the activity card's page.
    assert len(queries) == 3
    assert "accounts_user" not in queries[0]["sql"]


def test_me_answers_the_same_from_the_cache(alice, session_cache_on):
    client = bearer(api_login(alice)["access"])

    from_row = client.get("/api/auth/me").json()
    from_cache = client.get("/api/auth/me").json()

    assert from_cache == from_row
    assert from_cache["account"] == {"id": alice.account_id, "name": "Acme"}


def test_the_cache_holds_no_cookie_key_and_no_password_hash(alice, session_cache_on):
    browser = cached_browser(alice)
    cached_api_client(alice)
    key = cookie_key(browser)
    alice.refresh_from_db()

    names = session_cache_on.keys("*")
    values = [session_cache_on.get(name) for name in names]

    assert len(names) >= 2
    for blob in [*names, *values]:
        assert key.encode() not in blob
        assert alice.password.encode() not in blob
    # The browser's entry is found by the hash of the key, as its row is; the entry
    # itself does not repeat it.
    for value in values:
        assert sha256_hex(key).encode() not in value


def test_activity_is_written_once_a_minute_and_shared_through_the_cache(alice, session_cache_on):
    browser = cached_browser(alice)

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        _, first = statements(browser, "/settings/security/")
        _, second = statements(browser, "/session/status/")
        _, third = statements(browser, "/session/status/")

    [write] = [q["sql"] for q in first if q["sql"].lstrip().upper().startswith(WRITES)]
    assert "last_seen_at" in write
    # The next requests read the new last_seen_at from the cache: no write, no read.
    assert second == third == []


def test_a_cached_copy_behind_another_processes_activity_does_not_end_the_session(
    alice, session_cache_on
):
    browser = cached_browser(alice)
    row = row_of(browser)
    # Activity written by another process whose cache update was lost: the cached
    # copy still has the sign-in time.
    later = row.last_seen_at + timedelta(minutes=30)
    Session.objects.filter(pk=row.pk).update(last_seen_at=later)

    # Past the idle limit by the cached copy, within it by the row.
    with time_machine.travel(row.last_seen_at + row.idle_timeout + timedelta(minutes=1)):
        response = browser.get("/session/status/")

    assert response.status_code == 200
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_row_read_before_a_revoke_cannot_be_cached_after_it(alice, session_cache_on):
    browser = cached_browser(alice)
    key_hash = sha256_hex(cookie_key(browser))
    session_cache_on.flushdb()
    # A request misses and reads the live row...
    _cached, ticket = session_cache.read(session_cache.BROWSER, key_hash)
    stale = Session.objects.select_related("user__account").get(key_hash=key_hash)
    # ...the session is revoked and committed meanwhile...
    Session.objects.get(pk=stale.pk).revoke(reason=RevokedReason.USER, actor=alice)
    # ...and only then does that request fill the cache with what it read.
    session_cache.fill(ticket, stale)

    assert session_cache.read(session_cache.BROWSER, key_hash)[0] is None
    assert_refused(browser, "/session/status/")


def test_a_revoke_that_read_the_row_before_its_key_was_rotated_reaches_the_new_cookie(
    alice, session_cache_on
):
    browser = cached_browser(alice)
    # A revoke reads the row (the cookie's key as it was)...
    stale = row_of(browser)
    # ...meanwhile another tab re-authenticates: the key is rotated, and the browser's
    # next request is cached under the new one...
    store = SessionStore(cookie_key(browser))
    store.load()
    store.cycle_key()
    store.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    assert statements(browser, "/session/status/")[0] == 200
    assert statements(browser, "/session/status/") == (200, [])

    # ...and then the revoke commits.
    stale.revoke(reason=RevokedReason.USER, actor=alice)

    assert_refused(browser, "/session/status/")


def test_a_redis_that_refuses_writes_still_has_its_revoked_sessions_refused(
    alice, session_cache_on, monkeypatch
):
    browser = cached_browser(alice)
    row = row_of(browser)
    # Full, with noeviction: Redis answers reads and deletes, and refuses writes.
    full = redis.exceptions.ResponseError(
        "OOM command not allowed when used memory > 'maxmemory'."
    )

    def refuse(*args, **kwargs):
        raise full

    for write in ("set", "set_many", "add"):
        monkeypatch.setattr(type(caches[session_cache.ALIAS]), write, refuse)

    row.revoke(reason=RevokedReason.USER, actor=alice)

    assert_refused(browser, "/session/status/")


def test_an_entry_whose_generation_was_evicted_is_a_miss(alice, session_cache_on):
    browser = cached_browser(alice)
    [generation] = session_cache_on.keys("*session:b:*:generation")
    session_cache_on.delete(generation)

    status, queries = statements(browser, "/session/status/")

    assert status == 200
    assert len(queries) == 1


# --- every way a session ends is refused on its next request -----------------------


def revoke_it(user, session: Session, other: Session) -> None:
    session.revoke(reason=RevokedReason.USER, actor=user)


def revoke_the_others(user, session: Session, other: Session) -> None:
    revoke_other_sessions(user=user, keep=other, reason=RevokedReason.USER, actor=user)


def sign_out_the_account(user, session: Session, other: Session) -> None:
    revoke_account_sessions(account=user.account, scope=Scope.ALL, keep=None, actor=user, ip=None)


def change_the_password(user, session: Session, other: Session) -> None:
    user.set_password("a new password nobody has guessed")
    user.save()


def deactivate_the_user(user, session: Session, other: Session) -> None:
    user.is_active = False
    user.save()


def delete_the_user(user, session: Session, other: Session) -> None:
    user.delete()


ENDINGS = [
    revoke_it,
    revoke_the_others,
    sign_out_the_account,
    change_the_password,
    deactivate_the_user,
    delete_the_user,
]


@pytest.mark.parametrize("end", ENDINGS)
def test_a_cached_browser_session_ended_elsewhere_is_refused_on_its_next_request(
    bob, session_cache_on, end
):
    browser = cached_browser(bob)
    other = row_of(browser_for(bob))

    end(bob, row_of(browser), other)

    assert_refused(browser, "/session/status/")


@pytest.mark.parametrize("end", ENDINGS)
def test_a_cached_api_session_ended_elsewhere_is_refused_on_its_next_request(
    bob, session_cache_on, end
):
    client, tokens = cached_api_client(bob)
    other = row_of(browser_for(bob))

    end(bob, Session.objects.get(pk=tokens["session"]["id"]), other)

    assert_refused(client, "/api/auth/me")


def test_a_policy_applied_now_ends_cached_sessions_past_it(alice, bob, session_cache_on):
    browser = cached_browser(bob)
    client, _ = cached_api_client(bob)

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        update_session_policy(
            account=alice.account,
            idle_minutes=5,
            absolute_minutes=480,
            actor=alice,
            ip=None,
            apply_now=True,
        )
        assert_refused(browser, "/session/status/")
        assert_refused(client, "/api/auth/me")


def test_a_policy_applied_now_gives_cached_live_sessions_its_limits(alice, bob, session_cache_on):
    browser = cached_browser(bob)

    update_session_policy(
        account=alice.account,
        idle_minutes=5,
        absolute_minutes=480,
        actor=alice,
        ip=None,
        apply_now=True,
    )
    assert_signed_in(browser, "/session/status/")

    # Idle by the new limit, not by the hour the cache had: refused.
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert_refused(browser, "/session/status/")


@pytest.mark.parametrize(
    "lapse",
    [timedelta(minutes=61), timedelta(days=7, minutes=1)],
    ids=["idle", "absolute"],
)
def test_a_cached_session_past_its_limit_is_refused_and_ended(alice, session_cache_on, lapse):
    browser = cached_browser(alice)
    row = row_of(browser)

    with time_machine.travel(timezone.now() + lapse):
        assert_refused(browser, "/session/status/")

    row.refresh_from_db()
    expected = RevokedReason.EXPIRED_IDLE if lapse < timedelta(days=1) else "expired_absolute"
    assert row.revoked_reason == expected


def test_a_new_cookie_after_a_password_change_stays_cached_and_the_old_one_is_refused(
    alice, session_cache_on
):
    browser = cached_browser(alice)
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = cookie_key(browser)

    response = browser.post(
        "/settings/security/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new password nobody has guessed",
            "new_password2": "a new password nobody has guessed",
        },
    )

    assert response.status_code == 302
    assert cookie_key(browser) != cookie_key(old)
    assert_signed_in(browser, "/session/status/")
    assert_refused(old, "/session/status/")


def test_a_renamed_account_is_read_again(alice, session_cache_on):
    client, _ = cached_api_client(alice)
    alice.account.name = "Acme Corporation"
    alice.account.save()

    assert client.get("/api/auth/me").json()["account"]["name"] == "Acme Corporation"


# --- Redis unreachable ----------------------------------------------------------------


def test_while_redis_is_down_signed_in_requests_are_served_from_the_database(
    alice, session_cache_on, take_redis_down
):
    browser = browser_for(alice)
    client = bearer(api_login(alice)["access"])
    take_redis_down()

    for _ in range(2):
        for path, answering in [("/session/status/", browser), ("/api/auth/me", client)]:
            status, queries = statements(answering, path)
            assert status == 200
            assert len(queries) == 1


def test_while_redis_is_down_a_revoked_session_is_still_refused(
    alice, session_cache_on, take_redis_down
):
    browser = cached_browser(alice)
    client, tokens = cached_api_client(alice)
    take_redis_down()

    row_of(browser).revoke(reason=RevokedReason.USER, actor=alice)
    Session.objects.get(pk=tokens["session"]["id"]).revoke(reason=RevokedReason.USER, actor=alice)

    assert_refused(browser, "/session/status/")
    assert_refused(client, "/api/auth/me")


def test_a_session_cached_before_redis_went_down_is_read_from_the_database(
    alice, session_cache_on, settings
):
    browser = cached_browser(alice)
    settings.CACHES = {
        **settings.CACHES,
        session_cache.ALIAS: redis_cache(UNREACHABLE_REDIS_URL),
    }

    status, queries = statements(browser, "/session/status/")

    assert status == 200
    assert len(queries) == 1


def test_a_request_with_the_old_cookie_while_its_key_is_rotated_cannot_cache_it_anew(
    alice, session_cache_on, monkeypatch
):
    browser = cached_browser(alice)
    old_cookie = Client()
    old_cookie.cookies[settings.SESSION_COOKIE_NAME] = cookie_key(browser)
    forget_row = session_cache.forget_row

    def and_meanwhile_the_old_cookie(pk, *known):
        forget_row(pk, *known)
        # A request with the old cookie lands between the invalidation and the new key.
        old_cookie.get("/session/status/")

    monkeypatch.setattr(session_cache, "forget_row", and_meanwhile_the_old_cookie)
    changed = browser.post(
        "/settings/security/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new password nobody has guessed",
            "new_password2": "a new password nobody has guessed",
        },
    )
    monkeypatch.undo()

    assert changed.status_code == 302
    assert_refused(old_cookie, "/session/status/")
    assert browser.get("/session/status/").status_code == 200
