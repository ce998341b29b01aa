"""Sign-in history (SPEC §3, §6, §7): every attempt, browser or API, known user or not,
is a LoginEvent; a user reads only their own, newest first, on the Recent activity
card (a page at a time, "Load more") and from GET /api/auth/login-events."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import LoginEvent
from conftest import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    PASSWORD,
    PYTHON_CLIENT,
    PasswordHashes,
    api_login,
    bearer,
    browser_for,
)
from sessions.models import Session

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOME_IP = "198.51.100.7"
CAFE_IP = "203.0.113.9"
WRONG = "not the password at all"
INVALID_LOGIN = "The username or password is incorrect."
EVENT_FIELDS = {
    "id",
    "username",
    "ip",
    "user_agent",
    "device",
    "channel",
    "success",
    "failure_reason",
    "new_device",
    "created_at",
}


@pytest.fixture(autouse=True)
def clock():
    """Time stands still unless a test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def browser_sign_in(
    identifier: str, password: str = PASSWORD, ip: str = HOME_IP, user_agent: str = CHROME_MAC
):
    return Client(HTTP_USER_AGENT=user_agent).post(
        "/login/", {"username": identifier, "password": password}, REMOTE_ADDR=ip
    )


def api_sign_in(
    identifier: str, password: str = PASSWORD, ip: str = HOME_IP, user_agent: str = PYTHON_CLIENT
):
    return Client(HTTP_USER_AGENT=user_agent).post(
        "/api/auth/login",
        {"username": identifier, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def login_events(client: Client, query: str = ""):
    return client.get(f"/api/auth/login-events{query}")


def activity_rows(html: str) -> list[str]:
    """The Recent activity rows of a page or a fragment, each as its HTML."""
    return html.split('<li class="activity-row">')[1:]


def usernames_in(html: str) -> list[str]:
    return [re.search(r"<strong>([^<]*)</strong>", row).group(1) for row in activity_rows(html)]


def answer_page(response, typed: str) -> str:
    """The sign-in page a refusal answered with, less what differs on every answer
    (the CSRF tokens) and what the user typed (kept in the form)."""
    html = re.sub(r"[A-Za-z0-9]{64}", "(token)", response.content.decode())
    return html.replace(f'value="{typed}"', 'value="(typed)"')


def next_cursor(html: str) -> str | None:
    found = re.search(r'href="/settings/security/activity/\?after=([^"]+)"', html)
    return found.group(1) if found else None


# What is recorded


def test_a_failed_then_a_successful_sign_in_appear_newest_first_in_the_api(clock, alice):
    browser_sign_in("alice", WRONG, ip=CAFE_IP, user_agent=FIREFOX_WINDOWS)
    clock.shift(timedelta(minutes=1))
    tokens = api_login(alice)

    response = login_events(bearer(tokens["access"]))

    assert response.status_code == 200
    success, failure = response.json()
    assert set(success) == set(failure) == EVENT_FIELDS
    assert success == {
        "id": success["id"],
        "username": "alice",
        "ip": "127.0.0.1",
        "user_agent": PYTHON_CLIENT,
        "device": "Python Requests 2",
        "channel": "api",
        "success": True,
        "failure_reason": "",
        "new_device": True,
        "created_at": "2025-03-03T09:01:00Z",
    }
    assert failure == {
        "id": failure["id"],
        "username": "alice",
        "ip": CAFE_IP,
        "user_agent": FIREFOX_WINDOWS,
        "device": "Firefox 133 on Windows",
        "channel": "browser",
        "success": False,
        "failure_reason": "bad_credentials",
        "new_device": False,
        "created_at": "2025-03-03T09:00:00Z",
    }
    assert LoginEvent.objects.filter(user=alice).count() == 2


def test_a_failed_then_a_successful_sign_in_appear_newest_first_on_the_page(clock, alice):
    browser_sign_in("alice", WRONG, ip=CAFE_IP, user_agent=FIREFOX_WINDOWS)
    clock.shift(timedelta(minutes=1))
    browser = browser_for(alice)

    response = browser.get("/settings/security/")

    assert response.status_code == 200
    success, failure = activity_rows(response.content.decode())
    assert "Signed in" in success
    assert "Chrome 131 on macOS" in success
    assert "127.0.0.1" in success
    assert "Failed sign-in" in failure
    assert "Firefox 133 on Windows" in failure
    assert CAFE_IP in failure
    assert "Wrong username or password" in failure


def test_a_browser_sign_in_is_recorded_with_its_session(alice):
    response = browser_sign_in("alice")

    assert response.status_code == 302
    event = LoginEvent.objects.get()
    session = Session.objects.get()
    assert event.session == session
    assert (event.user, event.account, event.success) == (alice, alice.account, True)
    assert (event.channel, event.ip, event.user_agent) == ("browser", HOME_IP, CHROME_MAC)
    assert event.device == "Chrome 131 on macOS"
    assert event.failure_reason == ""


def test_an_api_sign_in_is_recorded_with_its_session(alice):
    response = api_sign_in("alice@acme.example")

    assert response.status_code == 200
    event = LoginEvent.objects.get()
    assert str(event.session_id) == response.json()["session"]["id"]
    assert event.session.kind == "api"
    assert (event.user, event.success, event.channel) == (alice, True, "api")
    assert (event.ip, event.user_agent) == (HOME_IP, PYTHON_CLIENT)


@pytest.mark.parametrize("sign_in", [browser_sign_in, api_sign_in], ids=["browser", "api"])
def test_a_failure_records_the_username_as_typed_and_its_channel(alice, sign_in):
    response = sign_in("ALICE@Acme.Example", WRONG)

    assert response.status_code in (200, 401)
    event = LoginEvent.objects.get()
    assert event.username == "ALICE@Acme.Example"
    assert event.user == alice
    assert event.channel == ("api" if sign_in is api_sign_in else "browser")
    assert (event.success, event.failure_reason) == (False, "bad_credentials")
    assert event.session is None


def test_a_locked_out_attempt_is_recorded_as_locked_out(alice):
    for _ in range(5):
        api_sign_in("alice", WRONG)

    response = api_sign_in("alice", PASSWORD)

    assert response.status_code == 429
    reasons = list(LoginEvent.objects.order_by("id").values_list("failure_reason", flat=True))
    assert reasons == ["bad_credentials"] * 5 + ["locked_out"]


@pytest.mark.parametrize("sign_in", [browser_sign_in, api_sign_in], ids=["browser", "api"])
def test_a_deactivated_user_with_the_right_password_is_answered_like_a_wrong_password(
    monkeypatch, alice, bob, sign_in
):
    bob.is_active = False
    bob.save()
    wrong_password = sign_in("alice", WRONG)
    hashes = PasswordHashes(monkeypatch)

    deactivated = sign_in("bob", PASSWORD)

    assert deactivated.status_code == wrong_password.status_code
    if sign_in is api_sign_in:
        assert deactivated.json() == wrong_password.json()
    else:
        assert answer_page(deactivated, "bob") == answer_page(wrong_password, "alice")
    assert hashes.count == 1
    assert not Session.objects.exists()
    event = LoginEvent.objects.get(user=bob)
    assert (event.success, event.failure_reason) == (False, "inactive")


# Unknown usernames


def test_an_unknown_username_gets_the_api_answer_a_wrong_password_gets(monkeypatch, alice):
    hashes = PasswordHashes(monkeypatch)
    wrong_password = api_sign_in("alice", WRONG)
    hashed_for_wrong_password = hashes.count
    unknown_user = api_sign_in("mallory", WRONG)
    unknown_email = api_sign_in("mallory@acme.example", WRONG)

    assert unknown_user.status_code == unknown_email.status_code == wrong_password.status_code
    assert wrong_password.status_code == 401
    assert unknown_user.json() == unknown_email.json() == wrong_password.json()
    assert wrong_password.json() == {"detail": INVALID_LOGIN, "code": "bad_credentials"}
    assert unknown_user["WWW-Authenticate"] == wrong_password["WWW-Authenticate"]
    assert (hashed_for_wrong_password, hashes.count) == (1, 3)
    unknown = LoginEvent.objects.filter(user=None).order_by("id")
    assert [(e.username, e.failure_reason) for e in unknown] == [
        ("mallory", "bad_credentials"),
        ("mallory@acme.example", "bad_credentials"),
    ]


def test_an_unknown_username_gets_the_page_a_wrong_password_gets(monkeypatch, alice):
    hashes = PasswordHashes(monkeypatch)
    wrong_password = browser_sign_in("ALICE", WRONG)
    hashed_for_wrong_password = hashes.count
    unknown_user = browser_sign_in("MALLORY", WRONG)

    assert unknown_user.status_code == wrong_password.status_code == 200
    assert answer_page(unknown_user, "MALLORY") == answer_page(wrong_password, "ALICE")
    assert INVALID_LOGIN in unknown_user.content.decode()
    assert (hashed_for_wrong_password, hashes.count) == (1, 2)
    event = LoginEvent.objects.get(user=None)
    assert (event.username, event.failure_reason, event.channel) == (
        "MALLORY",
        "bad_credentials",
        "browser",
    )


def test_an_unknown_username_appears_in_no_ones_history(alice):
    api_sign_in("mallory", WRONG)
    tokens = api_login(alice)

    response = login_events(bearer(tokens["access"]))

    assert [event["username"] for event in response.json()] == ["alice"]
    assert LoginEvent.objects.get(username="mallory").user is None


# Only one's own


@pytest.fixture
def everyone_signed_in(alice, bob, carol) -> dict:
    """alice, bob and carol each fail once and then sign in, from addresses of their own."""
    for user, ip in ((alice, HOME_IP), (bob, "192.0.2.66"), (carol, "192.0.2.77")):
        browser_sign_in(user.username, WRONG, ip=ip)
        api_sign_in(user.username, ip=ip)
    return {"alice": browser_for(alice), "tokens": api_login(alice)}


def test_the_page_shows_only_the_users_own_sign_ins(everyone_signed_in):
    response = everyone_signed_in["alice"].get("/settings/security/")

    assert response.status_code == 200
    html = response.content.decode()
    assert set(usernames_in(html)) == {"alice"}
    assert len(activity_rows(html)) == 4
    for someone_else in ("bob", "carol", "192.0.2.66", "192.0.2.77"):
        assert someone_else not in html


def test_the_api_lists_only_the_users_own_sign_ins(everyone_signed_in, alice):
    response = login_events(bearer(everyone_signed_in["tokens"]["access"]))

    assert response.status_code == 200
    own = LoginEvent.objects.filter(user=alice).order_by("-created_at", "-id")
    assert [event["id"] for event in response.json()] == [event.id for event in own]
    assert {event["username"] for event in response.json()} == {"alice"}
    assert LoginEvent.objects.count() == 8


def test_the_api_list_needs_a_bearer_token(everyone_signed_in):
    response = everyone_signed_in["alice"].get("/api/auth/login-events")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# GET /api/auth/login-events?limit


def make_events(user, count: int) -> list[LoginEvent]:
    """``count`` failed attempts on ``user``, one a minute before now, oldest first."""
    return [
        LoginEvent.objects.create(
            user=user,
            account=user.account,
            username=f"try{n:03d}",
            channel="browser",
            success=False,
            failure_reason="bad_credentials",
            ip=HOME_IP,
            created_at=START - timedelta(minutes=count - n),
        )
        for n in range(count)
    ]


def test_the_api_lists_twenty_events_by_default(alice):
    tokens = api_login(alice)
    make_events(alice, 30)

    response = login_events(bearer(tokens["access"]))

    assert response.status_code == 200
    usernames = [event["username"] for event in response.json()]
    assert usernames == ["alice"] + [f"try{n:03d}" for n in range(29, 10, -1)]


def test_an_empty_limit_means_the_default(alice):
    tokens = api_login(alice)
    make_events(alice, 30)

    response = login_events(bearer(tokens["access"]), "?limit=")

    assert response.status_code == 200
    assert len(response.json()) == 20


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_the_api_lists_as_many_events_as_asked_for_up_to_a_hundred(alice, limit):
    tokens = api_login(alice)
    make_events(alice, 120)

    response = login_events(bearer(tokens["access"]), f"?limit={limit}")

    assert response.status_code == 200
    assert len(response.json()) == limit
    assert response.json()[0]["username"] == "alice"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?limit=abc", "invalid"),
        ("?limit=1.5", "invalid"),
        ("?limit=0", "min_value"),
        ("?limit=-1", "min_value"),
        ("?limit=101", "max_value"),
        ("?limit=" + "9" * 5000, "max_string_length"),
        ("?limit=%00", "invalid"),
    ],
)
def test_a_bad_limit_is_a_400_naming_the_problem(alice, query, code):
    tokens = api_login(alice)

    response = login_events(bearer(tokens["access"]), query)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_the_api_list_costs_the_same_queries_for_one_event_or_a_hundred(
    alice, django_assert_num_queries
):
    tokens = api_login(alice)
    client = bearer(tokens["access"])
    with CaptureQueriesContext(connection) as one_event:
        assert len(login_events(client).json()) == 1
    make_events(alice, 99)

    with django_assert_num_queries(len(one_event.captured_queries)):
        response = login_events(client, "?limit=100")

    assert len(response.json()) == 100


def test_the_api_list_reads_the_events_in_one_query(alice):
    tokens = api_login(alice)
    make_events(alice, 30)

    with CaptureQueriesContext(connection) as queries:
        response = login_events(bearer(tokens["access"]))

    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "audit_loginevent" in q["sql"]]
    assert len(reads) == 1


# The Recent activity card and "Load more"


@pytest.fixture
def long_history(alice) -> Client:
    """alice, signed in, with 25 older failed attempts: in threes, each three at the
    same instant, so only the id tells their order; half of the instants fall on a
    whole second, half between two."""
    browser = browser_for(alice)
    for n in range(25):
        LoginEvent.objects.create(
            user=alice,
            account=alice.account,
            username=f"try{n:02d}",
            channel="browser",
            success=False,
            failure_reason="bad_credentials",
            ip=HOME_IP,
            created_at=START - timedelta(milliseconds=500 * (10 - n // 3)),
        )
    return browser


def newest_first(user) -> list[str]:
    events = LoginEvent.objects.filter(user=user).order_by("-created_at", "-id")
    return list(events.values_list("username", flat=True))


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_load_more_walks_the_whole_history_without_overlap_or_gaps(alice, long_history, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    first = long_history.get("/settings/security/")
    seen = usernames_in(first.content.decode())
    cursor = next_cursor(first.content.decode())
    pages = [first]
    while cursor is not None:
        page = long_history.get(f"/settings/security/activity/?after={cursor}", **headers)
        pages.append(page)
        seen += usernames_in(page.content.decode())
        cursor = next_cursor(page.content.decode())

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert [len(activity_rows(page.content.decode())) for page in pages] == [10, 10, 6]
    assert seen == newest_first(alice)
    assert len(seen) == len(set(seen)) == 26


def test_load_more_answers_htmx_with_only_the_rows(long_history):
    first = long_history.get("/settings/security/")
    cursor = next_cursor(first.content.decode())

    fragment = long_history.get(
        f"/settings/security/activity/?after={cursor}", HTTP_HX_REQUEST="true"
    )
    page = long_history.get(f"/settings/security/activity/?after={cursor}")

    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "Recent activity" not in fragment.content.decode()
    assert "<html" in page.content.decode()
    assert "Recent activity" in page.content.decode()
    assert usernames_in(fragment.content.decode()) == usernames_in(page.content.decode())


def test_load_more_has_a_link_that_works_without_javascript(long_history):
    html = long_history.get("/settings/security/").content.decode()

    cursor = next_cursor(html)
    assert cursor is not None
    assert f'hx-get="/settings/security/activity/?after={cursor}"' in html


def test_the_activity_page_without_a_cursor_starts_at_the_newest(alice, long_history):
    response = long_history.get("/settings/security/activity/")

    assert response.status_code == 200
    assert usernames_in(response.content.decode()) == newest_first(alice)[:10]


def test_the_activity_page_needs_a_signed_in_user(db):
    response = Client().get("/settings/security/activity/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_cursor_shows_only_the_users_own_older_events(alice, bob, long_history):
    # bob's attempts fall between alice's, so that any page of hers could take them.
    for n in range(20):
        LoginEvent.objects.create(
            user=bob,
            account=bob.account,
            username=f"bob{n:02d}",
            channel="browser",
            success=False,
            failure_reason="bad_credentials",
            ip=HOME_IP,
            created_at=START - timedelta(milliseconds=250 * n),
        )
    micros = (START - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    response = long_history.get(f"/settings/security/activity/?after={micros + 1}-1")

    assert response.status_code == 200
    assert usernames_in(response.content.decode()) == newest_first(alice)[:10]
    assert LoginEvent.objects.filter(user=bob).count() == 20


@pytest.mark.parametrize(
    "after",
    [
        "",
        "abc",
        "12-",
        "-3",
        "1-2-3",
        "1.5-3",
        "%20-1",
        "%C2%B2-1",
        "9" * 30 + "-1",
        "1-" + "9" * 40,
        "%EF%BC%91-1",
        "253402300800000000-1",
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_malformed_cursor_is_a_400(long_history, after, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = long_history.get(f"/settings/security/activity/?after={after}", **headers)

    assert response.status_code == 400


def start_micros() -> int:
    return (START - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@pytest.mark.parametrize(
    "after",
    [
        f"{start_micros()}-{10**20}",
        f"{start_micros()}-{2**63}",
        f"{start_micros() + 1}-0",
        "253402300799999999-1",
    ],
    ids=["id-beyond-bigint", "id-just-beyond-bigint", "just-after-now", "the-last-microsecond"],
)
def test_a_cursor_beyond_the_newest_event_starts_at_the_newest(alice, long_history, after):
    response = long_history.get(f"/settings/security/activity/?after={after}")

    assert response.status_code == 200
    assert usernames_in(response.content.decode()) == newest_first(alice)[:10]


@pytest.mark.parametrize("after", ["0-0", "1-99999999999999999999"])
def test_a_cursor_before_the_oldest_event_shows_nothing_more(long_history, after):
    response = long_history.get(f"/settings/security/activity/?after={after}")

    assert response.status_code == 200
    assert activity_rows(response.content.decode()) == []
    assert next_cursor(response.content.decode()) is None


def test_the_card_marks_success_failure_ip_device_and_new_devices(clock, alice):
    browser_sign_in("alice", WRONG, ip=CAFE_IP, user_agent=FIREFOX_WINDOWS)
    clock.shift(timedelta(minutes=3))
    first = browser_for(alice)
    first.post("/logout/")
    clock.shift(timedelta(minutes=1))
    assert first.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    clock.shift(timedelta(minutes=2))

    response = first.get("/settings/security/")

    assert response.status_code == 200
    again, new, failed = activity_rows(response.content.decode())
    assert "dot-success" in again and "dot-success" in new
    assert "dot-failure" in failed
    assert "New device" in new
    assert "New device" not in again and "New device" not in failed
    assert "Chrome 131 on macOS · 127.0.0.1" in again
    assert f"Firefox 133 on Windows · {CAFE_IP}" in failed
    assert "Wrong username or password" in failed
    assert 'title="3 Mar 2025, 09:04:00 UTC" data-relative>2\xa0minutes ago</time>' in again
    assert 'title="3 Mar 2025, 09:03:00 UTC" data-relative>3\xa0minutes ago</time>' in new
    assert 'title="3 Mar 2025, 09:00:00 UTC" data-relative>6\xa0minutes ago</time>' in failed
    assert 'datetime="2025-03-03T09:00:00+00:00"' in failed
    assert [e.new_device for e in LoginEvent.objects.order_by("-id")] == [False, True, False]


def test_the_card_escapes_what_a_client_wrote(alice):
    crafted = (
        "Mozilla/5.0 (Linux; Android 14; <img src=x onerror=alert(1)>) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    browser_sign_in("alice", WRONG, user_agent=crafted)
    browser = browser_for(alice)

    response = browser.get("/settings/security/")

    html = response.content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" in LoginEvent.objects.get(success=False).device


def test_the_card_marks_an_api_sign_in(alice):
    api_login(alice)
    browser = browser_for(alice)

    response = browser.get("/settings/security/")

    browser_row, api_row = activity_rows(response.content.decode())
    assert '<span class="badge">API</span>' in api_row
    assert '<span class="badge">API</span>' not in browser_row


def test_the_card_says_so_when_there_is_no_history_yet(alice):
    browser = browser_for(alice)
    LoginEvent.objects.all().delete()

    response = browser.get("/settings/security/")

    assert "No sign-ins yet." in response.content.decode()
    assert activity_rows(response.content.decode()) == []
