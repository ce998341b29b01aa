"""The session store: raw keys never at rest, keys rotated at sign-in, forged keys refused,
no rows for anonymous visitors, and sign-out ending the row."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from conftest import CHROME_MAC, PASSWORD, browser_for
from sessions.models import Session
from sessions.store import SessionStore

pytestmark = pytest.mark.django_db

FORGED_KEY = "k3y0fmych00s1ng1234567890abcdefg"


def session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def row_of(client: Client) -> Session:
    key_hash = hashlib.sha256(session_cookie(client).encode()).hexdigest()
    return Session.objects.get(key_hash=key_hash)


def every_stored_value() -> list[str]:
    """Every value of every row of every table, as text."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return values


def test_the_database_never_holds_the_raw_cookie_key(alice):
    browser = browser_for(alice)
    key = session_cookie(browser)

    assert len(key) == 32
    row = Session.objects.get(user=alice)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not [value for value in every_stored_value() if key in value]


def test_the_session_cookie_is_http_only_and_same_site_lax(alice):
    browser = Client(HTTP_USER_AGENT=CHROME_MAC)

    response = browser.post("/login/", {"username": "alice", "password": PASSWORD})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_sign_in_replaces_a_cookie_planted_before_it(alice):
    browser = Client(HTTP_USER_AGENT=CHROME_MAC)
    browser.cookies[settings.SESSION_COOKIE_NAME] = FORGED_KEY

    response = browser.post("/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    assert session_cookie(browser) != FORGED_KEY
    assert row_of(browser).user == alice
    assert not Session.objects.filter(key_hash=hashlib.sha256(FORGED_KEY.encode()).hexdigest())


def test_a_planted_cookie_does_not_sign_its_planter_in_after_the_victim_signs_in(alice):
    victim = Client(HTTP_USER_AGENT=CHROME_MAC)
    victim.cookies[settings.SESSION_COOKIE_NAME] = FORGED_KEY
    victim.post("/login/", {"username": "alice", "password": PASSWORD})
    attacker = Client(HTTP_USER_AGENT=CHROME_MAC)
    attacker.cookies[settings.SESSION_COOKIE_NAME] = FORGED_KEY

    response = attacker.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert victim.get("/settings/security/").status_code == 200


def test_rotating_the_key_of_a_signed_in_session_kills_the_old_key(alice):
    browser = browser_for(alice)
    old_key = session_cookie(browser)
    row = row_of(browser)

    store = SessionStore(old_key)
    assert store.load()
    store.cycle_key()

    assert store.session_key != old_key
    assert SessionStore(old_key).load() == {}
    stale = Client(HTTP_USER_AGENT=CHROME_MAC)
    stale.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = stale.get("/settings/security/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?reason=")
    # The same row, re-keyed: the session keeps its identity and limits.
    rotated = Session.objects.get(key_hash=hashlib.sha256(store.session_key.encode()).hexdigest())
    assert rotated.pk == row.pk
    assert rotated.revoked_at is None


def test_signing_in_again_over_an_ended_session_gives_a_new_key(alice):
    browser = browser_for(alice)
    old_key = session_cookie(browser)
    old_row = row_of(browser)
    old_row.revoke(reason="user", actor=alice)

    response = browser.post("/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert session_cookie(browser) != old_key
    assert SessionStore(old_key).load() == {}
    assert row_of(browser).pk != old_row.pk
    assert browser.get("/settings/security/").status_code == 200


@pytest.mark.parametrize(
    "forged",
    ["0123456789abcdefghijklmnopqrstuv", "x", "../../etc", "A" * 32, "a" * 33, "a" * 31 + "!"],
)
def test_a_forged_cookie_is_never_adopted(alice, forged):
    browser = browser_for(alice)
    sessions_before = Session.objects.count()
    intruder = Client(HTTP_USER_AGENT=CHROME_MAC)
    intruder.cookies[settings.SESSION_COOKIE_NAME] = forged

    response = intruder.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    set_cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
    assert set_cookie is None or set_cookie.value != forged
    assert Session.objects.count() == sessions_before
    assert browser.get("/settings/security/").status_code == 200


def test_a_forged_cookie_is_deleted_from_the_browser(alice):
    intruder = Client(HTTP_USER_AGENT=CHROME_MAC)
    intruder.cookies[settings.SESSION_COOKIE_NAME] = "0123456789abcdefghijklmnopqrstuv"

    response = intruder.get("/settings/security/")

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value == ""
    assert cookie["max-age"] == 0


def test_loading_an_unknown_key_creates_no_row(alice):
    browser_for(alice)
    sessions_before = Session.objects.count()

    store = SessionStore("a" * 32)

    assert store.load() == {}
    assert store.exists("a" * 32) is False
    assert Session.objects.count() == sessions_before


def test_saving_an_anonymous_session_creates_no_row(db):
    store = SessionStore()
    store["cart"] = "anonymous data"

    store.save()

    assert Session.objects.count() == 0


def test_anonymous_visitors_get_no_row_and_no_session_cookie(db):
    visitor = Client(HTTP_USER_AGENT=CHROME_MAC)

    response = visitor.get("/login/")
    visitor.post("/login/", {"username": "nobody", "password": "wrong password"})

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.count() == 0


def test_logout_revokes_the_row_and_deletes_the_cookie(alice):
    browser = browser_for(alice)
    row = row_of(browser)

    response = browser.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=signed_out"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value == ""
    assert cookie["max-age"] == 0
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert row.revoked_reason == "logout"
    assert row.session_data == ""
    event = AuditEvent.objects.get(action="session.revoked")
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"session:{row.pk}"
    assert event.details["reason"] == "logout"


def test_a_signed_out_cookie_no_longer_works(alice):
    browser = browser_for(alice)
    key = session_cookie(browser)
    browser.post("/logout/")
    replay = Client(HTTP_USER_AGENT=CHROME_MAC)
    replay.cookies[settings.SESSION_COOKIE_NAME] = key

    response = replay.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert SessionStore(key).load() == {}


def test_logout_by_get_only_asks_and_does_not_sign_out(alice):
    browser = browser_for(alice)
    row = row_of(browser)

    response = browser.get("/logout/")

    assert response.status_code == 200
    assert b'<form method="post" action="/logout/"' in response.content
    row.refresh_from_db()
    assert row.revoked_at is None
    assert browser.get("/settings/security/").status_code == 200
    assert not AuditEvent.objects.filter(action="session.revoked").exists()


def test_a_cookie_outside_the_key_alphabet_never_reaches_the_database(alice):
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = "é" * 32

    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert not [q for q in queries.captured_queries if "user_sessions_session" in q["sql"]]


def test_sign_in_writes_the_row_once_and_before_other_sign_in_receivers_run(alice):
    seen = []

    def receiver(sender, request, user, **kwargs):
        seen.append(Session.objects.filter(pk=request.session.row.pk).exists())

    user_logged_in.connect(receiver)
    try:
        with CaptureQueriesContext(connection) as queries:
            browser_for(alice)
    finally:
        user_logged_in.disconnect(receiver)

    assert seen == [True]
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "user_sessions_session" in q["sql"] and q["sql"].startswith(("INSERT", "UPDATE"))
    ]
    assert len(writes) == 1
    assert writes[0].startswith("INSERT")


def test_unchanged_data_saved_a_second_later_is_not_written_again(alice):
    browser = browser_for(alice)
    store = SessionStore(session_cookie(browser))
    assert store.get("_auth_user_id") == str(alice.pk)  # loaded, as a request would

    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        with CaptureQueriesContext(connection) as unchanged:
            store.save()
        store["theme"] = "dark"
        with CaptureQueriesContext(connection) as changed:
            store.save()

    assert not [q for q in unchanged.captured_queries if q["sql"].startswith("UPDATE")]
    assert [q for q in changed.captured_queries if q["sql"].startswith("UPDATE")]
    assert SessionStore(session_cookie(browser)).load()["theme"] == "dark"


def test_a_request_in_flight_cannot_write_its_data_back_onto_a_revoked_session(alice):
    browser = browser_for(alice)
    store = SessionStore(session_cookie(browser))
    assert store.get("_auth_user_id") == str(alice.pk)  # loaded, as a request would
    row = row_of(browser)
    row.revoke(reason="user", actor=alice)

    store["theme"] = "dark"
    store.save()

    row.refresh_from_db()
    assert row.revoked_reason == "user"
    assert row.session_data == ""


def test_a_session_whose_stored_data_was_altered_signs_nobody_in(alice):
    browser = browser_for(alice)
    row = row_of(browser)
    # Someone with write access to the table, but not SECRET_KEY, forges the data.
    forged = row.session_data.replace(row.session_data[-8:], "AAAAAAAA")
    Session.objects.filter(pk=row.pk).update(session_data=forged)

    response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_each_request_gets_session_data_of_its_own(alice):
    key = session_cookie(browser_for(alice))
    first = SessionStore(key)
    first["changed_by_the_first_request"] = True

    second = SessionStore(key)

    assert "changed_by_the_first_request" not in second.load()
    assert second.load()["_auth_user_id"] == str(alice.pk)
