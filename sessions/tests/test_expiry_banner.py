"""The expiry banner (SPEC §5): GET /session/status/ renders it and is not activity;
POST /session/keepalive/ restarts the idle deadline but never the absolute one. Time
moves only through time_machine; the limits are snapshotted at sign-in."""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import CHROME_MAC, PASSWORD, browser_for, run_python
from sessions.banner import expiry_banner
from sessions.models import Session
from sessions.validation import record_activity

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
IDLE_DEADLINE = START + timedelta(minutes=60)
ABSOLUTE_DEADLINE = START + timedelta(minutes=180)
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"}
IDLE_TEXT = "because of inactivity"
ABSOLUTE_TEXT = "Your session reaches its maximum length"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SESSION_IDLE_MINUTES_DEFAULT = 60
    settings.SESSION_ABSOLUTE_MINUTES_DEFAULT = 180
    settings.SESSION_WARNING_MINUTES = 5
    settings.SESSION_ACTIVITY_WRITE_SECONDS = 60


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def only_session_of(user) -> Session:
    return Session.objects.get(user=user)


def poll_delay(content: str) -> int:
    """The seconds after which the banner asks the server again."""
    return int(re.search(r'hx-trigger="load delay:(\d+)s"', content)[1])


def hidden_input(content: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', content)[1]


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if "user_sessions_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


STILL_ENDS = "Your session still ends at its maximum length: sign in again to go on."


def near_the_absolute_deadline(browser: Client, traveller) -> None:
    """Move to three minutes before the absolute deadline, the user active all along
    (last ten minutes before it), so the idle deadline is the farther one."""
    for minutes in (50, 90, 130, 170):
        traveller.move_to(START + timedelta(minutes=minutes))
        assert browser.get("/settings/security/").status_code == 200
    traveller.move_to(ABSOLUTE_DEADLINE - timedelta(minutes=3))


def csrf_checked_browser_for(username: str) -> Client:
    browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=CHROME_MAC)
    browser.get("/login/")
    response = browser.post(
        "/login/",
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME].value,
        },
    )
    assert response.status_code == 302, response.content
    return browser


# Polling is not activity; keepalive is.


def test_polling_the_status_for_an_hour_never_moves_last_seen_at_but_keepalive_does(
    alice, settings
):
    settings.SESSION_IDLE_MINUTES_DEFAULT = 120
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        with CaptureQueriesContext(connection) as queries:
            for step in range(120):
                traveller.shift(timedelta(seconds=30))
                headers = HTMX if step % 2 else {}
                assert browser.get("/session/status/", headers=headers).status_code == 200
        seen_after_an_hour_of_polls = row_of(browser).last_seen_at

        kept_alive = browser.post("/session/keepalive/", headers=HTMX)

    assert session_writes(queries) == []
    assert seen_after_an_hour_of_polls == START
    assert kept_alive.status_code == 200
    assert row_of(browser).last_seen_at == START + timedelta(hours=1)


def test_keepalive_moves_last_seen_at(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        response = browser.post("/session/keepalive/", headers=HTMX)

    assert response.status_code == 200
    row = row_of(browser)
    assert row.last_seen_at == START + timedelta(minutes=56)
    assert row.idle_expires_at == START + timedelta(minutes=116)


def test_keepalive_inside_the_once_a_minute_throttle_still_writes(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(seconds=20))
        browser.get("/settings/security/")
        page_seen_at = row_of(browser).last_seen_at
        traveller.shift(timedelta(seconds=10))

        response = browser.post("/session/keepalive/", headers=HTMX)

    assert response.status_code == 200
    assert page_seen_at == START
    assert row_of(browser).last_seen_at == START + timedelta(seconds=30)


def test_a_normal_page_request_still_records_activity(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=5))

        response = browser.get("/settings/security/")

    assert response.status_code == 200
    assert row_of(browser).last_seen_at == START + timedelta(minutes=5)


# What the partial shows.


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_the_partial_renders_the_idle_variant_near_the_idle_deadline(alice, headers):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        response = browser.get("/session/status/", headers=headers)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "You will be signed out in 4 minutes because of inactivity." in content
    assert 'class="session-banner session-banner-warning"' in content
    assert 'action="/session/keepalive/"' in content
    assert 'hx-post="/session/keepalive/"' in content
    assert ">Stay signed in</button>" in content
    assert 'aria-label="Dismiss"' in content
    assert f'data-deadline="{IDLE_DEADLINE.isoformat()}"' in content
    assert ABSOLUTE_TEXT not in content


def test_the_partial_renders_the_absolute_variant_near_the_absolute_deadline(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        response = browser.get("/session/status/", headers=HTMX)

    content = response.content.decode()
    assert (
        "Your session reaches its maximum length in 3 minutes. Sign in again to continue."
        in content
    )
    assert 'class="session-banner session-banner-info"' in content
    assert 'action="/logout/"' in content
    assert hidden_input(content, "next") == "/login/?next=/settings/security/"
    assert ">Sign in now</button>" in content
    assert 'aria-label="Dismiss"' in content
    assert f'data-deadline="{ABSOLUTE_DEADLINE.isoformat()}"' in content
    assert "Stay signed in" not in content
    assert "/session/keepalive/" not in content


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_the_partial_renders_nothing_far_from_both_deadlines(alice, headers):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=10))

        response = browser.get("/session/status/", headers=headers)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="session-banner"' in content
    assert 'hx-get="/session/status/"' in content
    assert 'hx-swap="outerHTML"' in content
    assert IDLE_TEXT not in content
    assert ABSOLUTE_TEXT not in content
    assert "data-deadline" not in content
    assert "<button" not in content


def test_the_banner_shows_one_minute_before_the_deadline_not_zero(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.move_to(IDLE_DEADLINE - timedelta(seconds=20))

        content = browser.get("/session/status/", headers=HTMX).content.decode()

    assert "You will be signed out in 1 minute because of inactivity." in content


# Polling: its rhythm and its end.


def test_the_poll_delay_shrinks_near_the_deadline(alice):
    delays = {}
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        for minutes in (0, 53, 55, 59.8, 59.99):
            traveller.move_to(START + timedelta(minutes=minutes))
            content = browser.get("/session/status/", headers=HTMX).content.decode()
            delays[minutes] = poll_delay(content)

    # Far: capped at five minutes; then the moment the banner is due; while shown
    # every 15 seconds, and at last the deadline itself.
    assert delays == {0: 300, 53: 120, 55: 15, 59.8: 12, 59.99: 1}


def test_a_page_that_follows_the_poll_delays_is_sent_to_login_a_second_past_the_deadline(
    alice,
):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        polls = 0
        while True:
            response = browser.get("/session/status/", headers=HTMX)
            polls += 1
            if "HX-Redirect" in response:
                break
            traveller.shift(timedelta(seconds=poll_delay(response.content.decode())))
        signed_out_at = datetime.now(UTC)

    # The session still serves a request at the instant of its idle limit (SPEC §4:
    # idle once last_seen_at + idle < now); the poll then comes back a second later.
    assert signed_out_at == IDLE_DEADLINE + timedelta(seconds=1)
    # 11 polls of 5 minutes to the banner, 20 of 15 seconds to the deadline, one at it.
    assert polls == 11 + 20 + 1 + 1


def test_past_the_deadline_an_htmx_poll_gets_hx_redirect_to_the_login_page(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.move_to(IDLE_DEADLINE + timedelta(microseconds=1))

        response = browser.get("/session/status/", headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?reason=session_expired&next=/settings/security/"
    assert only_session_of(alice).revoked_reason == "expired_idle"


def test_past_the_deadline_a_plain_status_request_is_redirected_to_the_login_page(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.move_to(ABSOLUTE_DEADLINE)

        response = browser.get("/session/status/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=session_expired&next=/session/status/"
    assert only_session_of(alice).revoked_reason == "expired_absolute"


@pytest.mark.parametrize(
    ("headers", "location_header", "location"),
    [
        (HTMX, "HX-Redirect", "/login/?reason=signed_out&next=/settings/security/"),
        ({}, "Location", "/login/?next=/session/status/"),
    ],
    ids=["htmx", "plain"],
)
def test_an_anonymous_status_request_is_sent_to_login(db, headers, location_header, location):
    response = Client().get("/session/status/", headers=headers)

    assert response[location_header] == location


# HX-Current-URL is the client's to write; urllib refuses these addresses outright.
MALFORMED_PAGE_URLS = ["http://[", "http://[::1", "http://[zz]/"]


@pytest.mark.parametrize("page_url", MALFORMED_PAGE_URLS)
def test_an_anonymous_poll_from_a_malformed_page_url_is_sent_to_login(db, page_url):
    response = Client().get(
        "/session/status/", headers={"HX-Request": "true", "HX-Current-URL": page_url}
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?reason=signed_out&next=/"


@pytest.mark.parametrize("page_url", MALFORMED_PAGE_URLS)
def test_a_poll_from_a_malformed_page_url_gets_the_banner_with_no_page_to_return_to(
    alice, page_url
):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        response = browser.get(
            "/session/status/", headers={"HX-Request": "true", "HX-Current-URL": page_url}
        )

    assert response.status_code == 200
    assert hidden_input(response.content.decode(), "next") == "/login/"


def test_the_status_request_costs_one_query(alice, django_assert_num_queries):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        with django_assert_num_queries(1) as queries:
            response = browser.get("/session/status/", headers=HTMX)
        with django_assert_num_queries(1):
            browser.get("/session/status/")

    assert IDLE_TEXT in response.content.decode()
    # The session row with its user (and account): the request's user comes from it.
    [query] = queries.captured_queries
    assert "user_sessions_session" in query["sql"]
    assert "accounts_user" in query["sql"]


def test_the_status_is_never_cached(alice):
    response = browser_for(alice).get("/session/status/", headers=HTMX)

    assert "no-store" in response["Cache-Control"]


# Keepalive.


def test_keepalive_clears_an_idle_banner(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        response = browser.post("/session/keepalive/", headers=HTMX)

    content = response.content.decode()
    assert 'id="session-banner"' in content
    assert IDLE_TEXT not in content
    assert poll_delay(content) == 300


def test_keepalive_cannot_move_the_absolute_deadline(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        response = browser.post("/session/keepalive/", headers=HTMX)

    assert ABSOLUTE_TEXT in response.content.decode()
    row = row_of(browser)
    assert row.expire_date == ABSOLUTE_DEADLINE
    assert row.last_seen_at == ABSOLUTE_DEADLINE - timedelta(minutes=3)
    # So the toast does not promise what the banner beside it denies.
    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"message": STILL_ENDS, "level": "info"}
    }


def test_keepalive_whose_new_idle_deadline_passes_the_absolute_one_says_it_still_ends(alice):
    # Four minutes before the idle deadline, 24 before the absolute one: the banner
    # shows idle, but "Stay signed in" can only keep the session 24 minutes more.
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        for minutes in (50, 100):
            traveller.move_to(START + timedelta(minutes=minutes))
            assert browser.get("/settings/security/").status_code == 200
        traveller.move_to(START + timedelta(minutes=156))

        response = browser.post("/session/keepalive/", headers=HTMX)

    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"message": STILL_ENDS, "level": "info"}
    }


def test_keepalive_without_javascript_near_the_absolute_deadline_says_it_still_ends(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        response = browser.post(
            "/session/keepalive/", {"next": "/settings/security/"}, follow=True
        )

    content = response.content.decode()
    assert STILL_ENDS in content
    assert "You will stay signed in." not in content


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/settings/security/?tab=sessions", "/settings/security/?tab=sessions"),
        ("https://evil.example/", "/settings/security/"),
        ("//evil.example/", "/settings/security/"),
        ("/\\evil.example/", "/settings/security/"),
        ("", "/settings/security/"),
    ],
)
def test_keepalive_without_htmx_returns_to_a_page_of_this_site(alice, next_url, location):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        response = browser.post("/session/keepalive/", {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == location
    assert row_of(browser).last_seen_at == START + timedelta(minutes=56)


def test_keepalive_without_javascript_says_so_on_the_page_it_returns_to(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        response = browser.post(
            "/session/keepalive/", {"next": "/settings/security/"}, follow=True
        )

    assert response.status_code == 200
    assert "You will stay signed in." in response.content.decode()


def test_keepalive_needs_a_csrf_token(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = csrf_checked_browser_for("alice")
        traveller.shift(timedelta(minutes=56))

        refused = browser.post("/session/keepalive/")
        refused_htmx = browser.post("/session/keepalive/", headers=HTMX)
        seen_after_refusals = row_of(browser).last_seen_at
        accepted = browser.post(
            "/session/keepalive/",
            headers={**HTMX, "X-CSRFToken": browser.cookies[settings.CSRF_COOKIE_NAME].value},
        )

    assert refused.status_code == 403
    assert refused_htmx.status_code == 403
    assert seen_after_refusals == START
    assert accepted.status_code == 200
    assert row_of(browser).last_seen_at == START + timedelta(minutes=56)


def test_keepalive_refuses_get(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        # Inside the once-a-minute throttle, where only a keepalive writes.
        traveller.shift(timedelta(seconds=30))

        response = browser.get("/session/keepalive/")

    assert response.status_code == 405
    assert row_of(browser).last_seen_at == START


def test_keepalive_of_an_ended_session_signs_the_request_out(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        row = row_of(browser)
        row.revoke(reason="user", actor=alice)
        traveller.shift(timedelta(minutes=5))

        response = browser.post("/session/keepalive/", headers=HTMX)

    assert response["HX-Redirect"] == "/login/?reason=session_expired&next=/settings/security/"
    row.refresh_from_db()
    assert row.last_seen_at == START
    assert row.revoked_reason == "user"


# "Sign in now".


def test_sign_in_now_signs_out_and_lands_on_the_login_page_with_next(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)
        banner = browser.get("/session/status/", headers=HTMX).content.decode()
        old_row = row_of(browser)

        signed_out = browser.post("/logout/", {"next": hidden_input(banner, "next")})
        login_page = browser.get(signed_out["Location"])
        signed_in = browser.post(
            signed_out["Location"], {"username": "alice", "password": PASSWORD}
        )

    assert signed_out.status_code == 302
    assert signed_out["Location"] == "/login/?next=/settings/security/"
    old_row.refresh_from_db()
    assert old_row.revoked_reason == "logout"
    assert login_page.status_code == 200
    assert 'name="next" value="/settings/security/"' in login_page.content.decode()
    assert signed_in["Location"] == "/settings/security/"
    new_row = row_of(browser)
    assert new_row.pk != old_row.pk
    assert new_row.expire_date == ABSOLUTE_DEADLINE - timedelta(minutes=3) + timedelta(hours=3)


def test_sign_in_now_keeps_the_page_query_in_next(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        content = browser.get("/settings/security/?tab=a&b=c").content.decode()

    assert hidden_input(content, "next") == "/login/?next=/settings/security/%3Ftab%3Da%26b%3Dc"


def test_sign_out_does_not_follow_a_next_to_another_site(alice):
    browser = browser_for(alice)

    response = browser.post("/logout/", {"next": "https://evil.example/login/"})

    assert response["Location"] == "/login/?reason=signed_out"


# The banner on every signed-in page.


def test_every_signed_in_page_has_the_banner_beside_a_status_announcer_that_polls_leave(alice):
    content = browser_for(alice).get("/settings/security/").content.decode()

    region = content[content.index('class="session-banner-region"') :]
    assert 'hx-get="/session/status/"' in region
    assert '<p id="session-banner-announcer" class="visually-hidden" role="status">' in region
    assert "/static/js/session_banner.js" in content


def test_a_polled_banner_is_no_live_region_so_a_screen_reader_does_not_hear_it_again(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(minutes=56))

        shown = browser.get("/session/status/", headers=HTMX).content.decode()

    assert "You will be signed out in 4 minutes" in shown
    assert "role=" not in shown
    assert "aria-live" not in shown


def test_a_visitor_who_is_not_signed_in_gets_no_banner(db):
    content = Client().get("/login/").content.decode()

    assert "session-banner" not in content.replace("session_banner.js", "")


def test_a_page_draws_the_banner_from_the_row_it_already_read(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        near_the_absolute_deadline(browser, traveller)

        with CaptureQueriesContext(connection) as queries:
            content = browser.get("/logout/").content.decode()

    assert ABSOLUTE_TEXT in content
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1


# Configuration.

WARNING_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SESSION_WARNING_MINUTES)"
)


def test_the_warning_window_is_read_from_the_environment():
    default = run_python("-c", WARNING_PROBE, DJANGO_ALLOWED_HOSTS="portal.example")
    chosen = run_python(
        "-c", WARNING_PROBE, DJANGO_ALLOWED_HOSTS="portal.example", SESSION_WARNING_MINUTES="10"
    )

    assert default.stdout.split() == ["5"], default.stderr
    assert chosen.stdout.split() == ["10"], chosen.stderr


def test_a_warning_window_of_zero_minutes_is_refused_naming_the_variable():
    result = run_python(
        "-c", WARNING_PROBE, DJANGO_ALLOWED_HOSTS="portal.example", SESSION_WARNING_MINUTES="0"
    )

    assert result.returncode != 0
    assert "SESSION_WARNING_MINUTES=0 is below its minimum of 1" in result.stderr


# The rules, without a request.


def test_on_a_tie_the_banner_names_the_absolute_deadline_which_nothing_extends():
    session = Session(
        last_seen_at=START, idle_timeout=timedelta(minutes=60), expire_date=IDLE_DEADLINE
    )

    banner = expiry_banner(session, IDLE_DEADLINE - timedelta(minutes=2))

    assert banner.kind == "absolute"
    assert banner.minutes_left == 2


def test_a_forced_activity_write_leaves_a_revoked_session_as_it_ended(alice):
    with time_machine.travel(START, tick=False) as traveller:
        row = row_of(browser_for(alice))
        row.revoke(reason="user", actor=alice)
        traveller.shift(timedelta(seconds=10))

        written = record_activity(row, datetime.now(UTC), force=True)

    assert written is False
    row.refresh_from_db()
    assert row.last_seen_at == START
    assert row.revoked_reason == "user"


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/accounts/user/", "/admin/user_sessions/session/"]
)
def test_the_admin_warns_of_the_deadline_as_every_signed_in_page_does(alice, path):
    # An owner editing in the admin, unwarned, would post the edit into a session
    # that has just ended and lose it.
    with time_machine.travel(START, tick=False) as traveller:
        owner = browser_for(alice)
        near_the_absolute_deadline(owner, traveller)

        page = owner.get(path).content.decode()

    assert 'id="session-banner"' in page
    assert ABSOLUTE_TEXT in page
    assert "Sign in now" in page
    # Polled from there on, as on the portal's pages.
    assert 'hx-get="/session/status/"' in page
    assert "js/session_banner.js" in page
    assert "htmx" in page
