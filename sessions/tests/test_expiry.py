"""Idle and absolute expiry (SPEC §4), enforced alike for browsers and API tokens, and
last_seen_at written at most once a minute. Time moves only through time_machine."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from accounts.policy import validate_overrides
from conftest import PYTHON_CLIENT, api_login, bearer, browser_for
from sessions.lifecycle import count_ended_by_policy
from sessions.models import Session
from sessions.validation import record_activity

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SECURITY_PAGE = "/settings/security/"
EXPIRED_LOCATION = "/login/?reason=session_expired&next=/settings/security/"


@pytest.fixture(autouse=True)
def short_limits(settings):
    # Limits are snapshotted at sign-in, so they are set before anyone signs in.
    settings.SESSION_IDLE_MINUTES_DEFAULT = 60
    settings.SESSION_ABSOLUTE_MINUTES_DEFAULT = 180
    # Long-lived access tokens, so the API tests exercise the session's limits,
    # not the token's five-minute lifetime.
    settings.ACCESS_TOKEN_SECONDS = 100_000


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if "user_sessions_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


def last_seen_writes(queries: CaptureQueriesContext) -> list[str]:
    return [sql for sql in session_writes(queries) if "last_seen_at" in sql]


def test_a_browser_session_works_until_just_before_its_idle_limit(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=59))

        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 200
    row = Session.objects.get(user=alice)
    assert row.revoked_at is None


def test_a_session_serves_at_the_instant_of_its_idle_limit_and_not_a_moment_after(alice):
    # SPEC §4: idle-expired once last_seen_at + idle < now.
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        api = bearer(api_login(alice)["access"])
        traveller.shift(timedelta(minutes=60))
        at_the_limit = browser.get(SECURITY_PAGE), api.get("/api/auth/me")
        traveller.shift(timedelta(minutes=60, microseconds=1))
        past_it = browser.get(SECURITY_PAGE), api.get("/api/auth/me")

    assert [response.status_code for response in at_the_limit] == [200, 200]
    assert [response.status_code for response in past_it] == [302, 401]
    assert past_it[1].json()["code"] == "session_expired"


def test_a_policy_applied_now_judges_the_idle_instant_as_the_validator_does(alice):
    strict = validate_overrides(idle_minutes=15, absolute_minutes=None)
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        traveller.shift(timedelta(minutes=15))
        at_the_limit = count_ended_by_policy(account=alice.account, policy=strict, now=now())
        traveller.shift(timedelta(microseconds=1))
        past_it = count_ended_by_policy(account=alice.account, policy=strict, now=now())

    assert (at_the_limit, past_it) == (0, 1)


def test_api_calls_carrying_the_browser_cookie_do_not_keep_it_alive(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        for _ in range(3):
            traveller.shift(timedelta(minutes=50))
            # The API reads bearer tokens only: the cookie alone is refused.
            assert browser.get("/api/auth/me").status_code == 401
        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 302
    assert response["Location"] == EXPIRED_LOCATION
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_an_idle_browser_session_is_sent_to_login(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=61))

        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 302
    assert response["Location"] == EXPIRED_LOCATION
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    row = Session.objects.get(user=alice)
    assert row.revoked_reason == "expired_idle"
    assert row.revoked_at == START + timedelta(minutes=61)


def test_idle_time_is_measured_from_the_last_activity(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=30))
        assert browser.get(SECURITY_PAGE).status_code == 200
        # 61 minutes after sign-in, but only 31 after the last request.
        traveller.shift(timedelta(minutes=31))
        assert browser.get(SECURITY_PAGE).status_code == 200
        traveller.shift(timedelta(minutes=61))

        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 302
    assert response["Location"] == EXPIRED_LOCATION
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_a_tab_signed_out_in_another_is_told_so_on_its_next_htmx_request(alice):
    # The sign-out in one tab deleted the cookie both share; the other tab's banner
    # poll finds no session at all, and its page was drawn signed in.
    browser = browser_for(alice)
    assert browser.post("/logout/").status_code == 302

    response = browser.get(
        "/session/status/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"},
    )

    assert response["HX-Redirect"] == "/login/?reason=signed_out&next=/settings/security/"


def test_an_idle_htmx_request_gets_hx_redirect(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=61))

        response = browser.post(
            "/settings/security/sessions/revoke-others/",
            headers={
                "HX-Request": "true",
                "HX-Current-URL": "http://testserver/settings/security/",
            },
        )

    assert response.status_code == 200
    assert response["HX-Redirect"] == EXPIRED_LOCATION
    assert "Location" not in response
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_an_expired_session_shows_the_reason_on_the_login_page(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=61))

        response = browser.get(SECURITY_PAGE, follow=True)

    assert response.redirect_chain == [(EXPIRED_LOCATION, 302)]
    assert b"Your session has ended" in response.content


def test_activity_cannot_extend_a_browser_session_past_its_absolute_limit(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        for _ in range(5):
            traveller.shift(timedelta(minutes=30))
            assert browser.get(SECURITY_PAGE).status_code == 200
        traveller.shift(timedelta(minutes=30))

        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 302
    assert response["Location"] == EXPIRED_LOCATION
    row = Session.objects.get(user=alice)
    assert row.revoked_reason == "expired_absolute"
    assert row.revoked_at == START + timedelta(minutes=180)


def test_the_session_cookie_outlives_the_absolute_limit_by_a_day(alice):
    # The browser still presents the cookie after the limit, so the server can
    # end the row as expired_absolute and tell the user why.
    with time_machine.travel(START, tick=False):
        browser = browser_for(alice)

    cookie = browser.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 180 * 60 + 24 * 60 * 60


def test_an_account_override_is_snapshotted_at_sign_in(alice, acme):
    acme.session_idle_minutes = 15
    acme.save()
    with time_machine.travel(START, tick=False) as traveller:
        strict = browser_for(alice)
        acme.session_idle_minutes = 120
        acme.save()
        relaxed = browser_for(alice)
        traveller.shift(timedelta(minutes=16))

        strict_response = strict.get(SECURITY_PAGE)
        relaxed_response = relaxed.get(SECURITY_PAGE)

    assert strict_response.status_code == 302
    assert strict_response["Location"] == EXPIRED_LOCATION
    assert relaxed_response.status_code == 200
    rows = Session.objects.filter(user=alice).order_by("idle_timeout")
    assert [row.idle_timeout for row in rows] == [timedelta(minutes=15), timedelta(minutes=120)]
    assert [row.revoked_reason for row in rows] == ["expired_idle", ""]


def test_a_stricter_policy_does_not_cut_short_a_running_session(alice, acme):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        acme.session_idle_minutes = 15
        acme.session_absolute_minutes = 30
        acme.save()
        traveller.shift(timedelta(minutes=45))

        response = browser.get(SECURITY_PAGE)

    assert response.status_code == 200
    assert Session.objects.get(user=alice).revoked_at is None


def test_an_api_session_works_until_just_before_its_idle_limit(alice):
    with time_machine.travel(START, tick=False) as traveller:
        client = bearer(api_login(alice)["access"])
        traveller.shift(timedelta(minutes=59))

        response = client.get("/api/auth/me")

    assert response.status_code == 200
    assert Session.objects.get(user=alice).revoked_at is None


def test_an_idle_api_session_answers_401_session_expired(alice):
    with time_machine.travel(START, tick=False) as traveller:
        client = bearer(api_login(alice)["access"])
        traveller.shift(timedelta(minutes=30))
        assert client.get("/api/auth/me").status_code == 200
        traveller.shift(timedelta(minutes=61))

        response = client.get("/api/auth/me")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "session_expired"
    assert response.json()["detail"]
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_an_idle_api_session_cannot_be_refreshed(alice):
    with time_machine.travel(START, tick=False) as traveller:
        tokens = api_login(alice)
        traveller.shift(timedelta(minutes=61))

        response = Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
            "/api/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
        )

    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_activity_cannot_extend_an_api_session_past_its_absolute_limit(alice):
    with time_machine.travel(START, tick=False) as traveller:
        client = bearer(api_login(alice)["access"])
        for _ in range(5):
            traveller.shift(timedelta(minutes=30))
            assert client.get("/api/auth/me").status_code == 200
        traveller.shift(timedelta(minutes=30))

        response = client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert Session.objects.get(user=alice).revoked_reason == "expired_absolute"


def test_browser_activity_is_written_at_most_once_a_minute(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)

        with CaptureQueriesContext(connection) as first_minute:
            for _ in range(3):
                traveller.shift(timedelta(seconds=15))
                assert browser.get(SECURITY_PAGE).status_code == 200
        traveller.move_to(START + timedelta(seconds=61))
        with CaptureQueriesContext(connection) as next_request:
            assert browser.get(SECURITY_PAGE).status_code == 200
        with CaptureQueriesContext(connection) as rest_of_that_minute:
            for _ in range(3):
                traveller.shift(timedelta(seconds=15))
                assert browser.get(SECURITY_PAGE).status_code == 200

    assert session_writes(first_minute) == []
    assert len(last_seen_writes(next_request)) == 1
    assert len(session_writes(next_request)) == 1
    assert session_writes(rest_of_that_minute) == []
    assert Session.objects.get(user=alice).last_seen_at == START + timedelta(seconds=61)


def test_api_activity_is_written_at_most_once_a_minute(alice):
    with time_machine.travel(START, tick=False) as traveller:
        client = bearer(api_login(alice)["access"])

        with CaptureQueriesContext(connection) as first_minute:
            for _ in range(3):
                traveller.shift(timedelta(seconds=15))
                assert client.get("/api/auth/me").status_code == 200
        traveller.move_to(START + timedelta(seconds=61))
        with CaptureQueriesContext(connection) as next_request:
            assert client.get("/api/auth/me").status_code == 200
        with CaptureQueriesContext(connection) as rest_of_that_minute:
            for _ in range(3):
                traveller.shift(timedelta(seconds=15))
                assert client.get("/api/auth/me").status_code == 200

    assert session_writes(first_minute) == []
    assert len(last_seen_writes(next_request)) == 1
    assert len(session_writes(next_request)) == 1
    assert session_writes(rest_of_that_minute) == []
    assert Session.objects.get(user=alice).last_seen_at == START + timedelta(seconds=61)


def test_a_stale_copy_of_a_session_does_not_write_activity_again(alice):
    # Two requests of one session read the row at the same moment, both see
    # last_seen_at more than a minute old; only one may write.
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        traveller.shift(timedelta(minutes=5))
        first, second = Session.objects.get(user=alice), Session.objects.get(user=alice)
        now = START + timedelta(minutes=5)

        assert record_activity(first, now) is True
        assert record_activity(second, now - timedelta(seconds=1)) is False

    assert Session.objects.get(user=alice).last_seen_at == now


def test_activity_is_never_written_to_a_revoked_session(alice):
    with time_machine.travel(START, tick=False):
        browser_for(alice)
        stale = Session.objects.get(user=alice)
        Session.objects.get(user=alice).revoke(reason="user", actor=alice)

        assert record_activity(stale, START + timedelta(minutes=5)) is False

    assert Session.objects.get(user=alice).last_seen_at == START
