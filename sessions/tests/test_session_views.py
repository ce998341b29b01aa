"""The Active sessions card: the list, signing out one session, signing out all others,
with and without HTMX, and only ever the signed-in user's own sessions."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from audit.models import AuditEvent
from conftest import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    PASSWORD,
    SAFARI_IPHONE,
    api_login,
    bearer,
    browser_for,
)
from sessions.models import Session

pytestmark = pytest.mark.django_db

THIS_DEVICE = '<span class="badge badge-current">This device</span>'
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"}


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def revoke_url(session: Session) -> str:
    return f"/settings/security/sessions/{session.pk}/revoke/"


def sessions_card(page: str) -> str:
    """The Active sessions card of the security page (the page also lists sign-ins)."""
    start = page.index('aria-labelledby="sessions-title"')
    return page[start : page.index("</section>", start)]


def revoked_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="session.revoked"))


def toast_of(response) -> dict:
    """The toast an HTMX answer asks the page to show (its HX-Trigger "toast" event)."""
    return json.loads(response["HX-Trigger"])["toast"]


def test_it_lists_the_users_sessions_with_their_devices(alice, bob):
    laptop = browser_for(alice)
    phone = browser_for(alice, SAFARI_IPHONE)
    api_session = Session.objects.get(pk=api_login(alice)["session"]["id"])
    bobs = row_of(browser_for(bob, FIREFOX_WINDOWS))

    response = laptop.get("/settings/security/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Chrome 131 on macOS" in content
    assert "iPhone" in content
    assert "Firefox" not in content
    assert content.count(THIS_DEVICE) == 1
    assert revoke_url(row_of(laptop)) not in content
    assert revoke_url(row_of(phone)) in content
    assert revoke_url(api_session) in content
    assert revoke_url(bobs) not in content


def test_this_device_marks_the_current_session(alice):
    browser_for(alice)
    phone = browser_for(alice, SAFARI_IPHONE)

    content = phone.get("/settings/security/").content.decode()

    marker = content.index(THIS_DEVICE)
    assert "iPhone" in content[content.rindex('class="session-row"', 0, marker) : marker]


def test_it_does_not_list_ended_sessions(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    phone.revoke(reason="user", actor=alice)

    content = sessions_card(laptop.get("/settings/security/").content.decode())

    assert str(phone.pk) not in content
    assert "iPhone" not in content


def test_the_security_page_is_never_cached(alice):
    laptop = browser_for(alice)

    response = laptop.get("/settings/security/")

    assert "no-store" in response["Cache-Control"]


def test_the_list_partial_is_never_cached(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.post(revoke_url(phone), headers=HTMX)

    assert "no-store" in response["Cache-Control"]


def test_anonymous_visitors_are_sent_to_login(alice):
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    visitor = Client(HTTP_USER_AGENT=CHROME_MAC)

    page = visitor.get("/settings/security/")
    revoke = visitor.post(revoke_url(phone))

    assert page.status_code == 302
    assert page["Location"] == "/login/?next=/settings/security/"
    assert revoke.status_code == 302
    assert revoke["Location"].startswith("/login/")
    phone.refresh_from_db()
    assert phone.revoked_at is None


def test_it_signs_out_another_session(alice):
    laptop = browser_for(alice)
    phone_browser = browser_for(alice, SAFARI_IPHONE)
    phone = row_of(phone_browser)

    response = laptop.post(revoke_url(phone))

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    phone.refresh_from_db()
    assert phone.revoked_at is not None
    assert phone.revoked_reason == "user"
    [event] = revoked_events()
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"session:{phone.pk}"
    assert event.details["reason"] == "user"
    assert row_of(laptop).revoked_at is None


def test_it_confirms_the_sign_out_after_the_redirect(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.post(revoke_url(phone), follow=True)

    assert response.redirect_chain == [("/settings/security/", 302)]
    content = response.content.decode()
    assert "Signed out Mobile Safari 17 on iPhone." in content
    assert revoke_url(phone) not in content


def test_the_revoked_browser_is_sent_to_login(alice):
    laptop = browser_for(alice)
    phone_browser = browser_for(alice, SAFARI_IPHONE)
    laptop.post(revoke_url(row_of(phone_browser)))

    response = phone_browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=session_expired&next=/settings/security/"
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


def test_the_revoked_browser_sees_why_on_the_login_page(alice):
    laptop = browser_for(alice)
    phone_browser = browser_for(alice, SAFARI_IPHONE)
    laptop.post(revoke_url(row_of(phone_browser)))

    response = phone_browser.get("/settings/security/", follow=True)

    assert b"it expired or was signed out" in response.content


def test_a_revoked_htmx_request_gets_hx_redirect(alice):
    laptop = browser_for(alice)
    phone_browser = browser_for(alice, SAFARI_IPHONE)
    laptop.post(revoke_url(row_of(phone_browser)))

    response = phone_browser.post("/settings/security/sessions/revoke-others/", headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?reason=session_expired&next=/settings/security/"


def test_the_revoked_api_client_gets_401(alice):
    laptop = browser_for(alice)
    tokens = api_login(alice)
    api_session = Session.objects.get(pk=tokens["session"]["id"])

    laptop.post(revoke_url(api_session))
    response = bearer(tokens["access"]).get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["code"] == "session_revoked"
    refreshed = Client().post(
        "/api/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 401
    api_session.refresh_from_db()
    assert api_session.revoked_reason == "user"


def test_with_htmx_it_answers_with_the_refreshed_list(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    tablet = row_of(browser_for(alice, FIREFOX_WINDOWS))

    response = laptop.post(revoke_url(phone), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="session-list"' in content
    assert "<html" not in content
    assert revoke_url(phone) not in content
    assert revoke_url(tablet) in content
    assert THIS_DEVICE in content
    assert toast_of(response) == {
        "message": "Signed out Mobile Safari 17 on iPhone.",
        "level": "success",
    }
    phone.refresh_from_db()
    assert phone.revoked_reason == "user"
    assert len(revoked_events()) == 1


ALREADY_ENDED = "That session had already ended."


@pytest.mark.parametrize("owner", ["bob", "carol"])
def test_it_refuses_another_users_session_as_if_it_had_ended(alice, bob, carol, owner):
    laptop = browser_for(alice)
    theirs = row_of(browser_for({"bob": bob, "carol": carol}[owner]))

    response = laptop.post(revoke_url(theirs), follow=True)
    htmx_response = laptop.post(revoke_url(theirs), headers=HTMX)

    assert response.redirect_chain == [("/settings/security/", 302)]
    assert ALREADY_ENDED in response.content.decode()
    assert htmx_response.status_code == 200
    assert toast_of(htmx_response) == {"message": ALREADY_ENDED, "level": "info"}
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert theirs.revoked_reason == ""
    assert revoked_events() == []


@pytest.mark.parametrize("session_id", ["not-a-uuid", "123", "%00", "12345678-1234-1234-1234"])
def test_it_answers_404_for_a_malformed_session_id(alice, session_id):
    laptop = browser_for(alice)

    response = laptop.post(f"/settings/security/sessions/{session_id}/revoke/")

    assert response.status_code == 404
    assert revoked_events() == []


@pytest.mark.parametrize("session_id", [str(uuid.UUID(int=0)), str(uuid.UUID(int=2**127 + 7))])
def test_an_unknown_session_id_is_answered_like_an_ended_session(alice, session_id):
    laptop = browser_for(alice)

    response = laptop.post(f"/settings/security/sessions/{session_id}/revoke/", headers=HTMX)

    assert response.status_code == 200
    assert toast_of(response)["message"] == ALREADY_ENDED
    assert revoked_events() == []


def test_signing_out_a_session_that_already_ended_refreshes_the_list_and_says_so(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    tablet = row_of(browser_for(alice, FIREFOX_WINDOWS))
    laptop.post(revoke_url(phone))

    response = laptop.post(revoke_url(phone), headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert toast_of(response) == {"message": ALREADY_ENDED, "level": "info"}
    assert revoke_url(phone) not in content
    assert revoke_url(tablet) in content
    assert len(revoked_events()) == 1


def test_signing_out_an_ended_session_without_javascript_returns_to_the_page_saying_so(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    laptop.post(revoke_url(phone))

    response = laptop.post(revoke_url(phone), follow=True)

    assert response.redirect_chain == [("/settings/security/", 302)]
    assert ALREADY_ENDED in response.content.decode()
    assert len(revoked_events()) == 1


def test_it_does_not_revoke_the_current_session(alice):
    laptop = browser_for(alice)
    current = row_of(laptop)

    response = laptop.post(revoke_url(current))

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    current.refresh_from_db()
    assert current.revoked_at is None
    assert laptop.get("/settings/security/").status_code == 200
    assert revoked_events() == []


def test_it_rejects_get(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.get(revoke_url(phone))

    assert response.status_code == 405
    phone.refresh_from_db()
    assert phone.revoked_at is None


def test_sign_out_others_has_a_confirmation_page(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.get("/settings/security/sessions/revoke-others/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Sign out all other sessions?" in content
    assert 'action="/settings/security/sessions/revoke-others/"' in content
    assert 'name="csrfmiddlewaretoken"' in content
    phone.refresh_from_db()
    assert phone.revoked_at is None


def test_sign_out_others_ends_every_other_session_of_the_user(alice, bob):
    laptop = browser_for(alice)
    phone_browser = browser_for(alice, SAFARI_IPHONE)
    tokens = api_login(alice)
    bob_browser = browser_for(bob)

    response = laptop.post("/settings/security/sessions/revoke-others/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    assert phone_browser.get("/settings/security/")["Location"].startswith(
        "/login/?reason=session_expired"
    )
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == 401
    assert laptop.get("/settings/security/").status_code == 200
    assert bob_browser.get("/settings/security/").status_code == 200
    reasons = {row.kind + ":" + row.revoked_reason for row in Session.objects.filter(user=alice)}
    assert reasons == {"browser:", "browser:user", "api:user"}
    assert row_of(laptop).revoked_at is None
    assert row_of(bob_browser).revoked_at is None
    [event] = revoked_events()
    assert event.user == alice
    assert event.actor == alice
    assert event.details["count"] == 2
    assert event.details["reason"] == "user"


def test_sign_out_others_says_how_many_it_ended(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)
    browser_for(alice, FIREFOX_WINDOWS)

    response = laptop.post("/settings/security/sessions/revoke-others/", follow=True)

    assert b"Signed out 2 other sessions." in response.content


def test_sign_out_others_with_no_other_session_ends_nothing(alice):
    laptop = browser_for(alice)

    response = laptop.post("/settings/security/sessions/revoke-others/", follow=True)

    assert b"Only this device is signed in." in response.content
    assert b"Signed out 0" not in response.content
    assert row_of(laptop).revoked_at is None
    assert revoked_events() == []


def test_a_repeated_sign_out_others_tells_the_same_story_and_ends_nothing_more(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)
    browser_for(alice, FIREFOX_WINDOWS)
    url = "/settings/security/sessions/revoke-others/"

    first = toast_of(laptop.post(url, headers=HTMX))["message"]
    second = toast_of(laptop.post(url, headers=HTMX))["message"]

    assert first == "Signed out 2 other sessions. Only this device is signed in."
    assert second == "Only this device is signed in."
    assert len(revoked_events()) == 1


def test_the_sign_out_others_form_is_disabled_while_its_request_runs(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    content = laptop.get("/settings/security/").content.decode()

    dialog = content[content.index('<dialog id="revoke-others-dialog"') :]
    assert 'hx-disabled-elt="find button[type=submit]"' in dialog
    assert 'hx-sync="this:drop"' in dialog


def test_sign_out_others_counts_only_sessions_that_were_still_live(alice):
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        browser_for(alice, SAFARI_IPHONE)
        traveller.shift(timedelta(minutes=30))
        laptop = browser_for(alice)
        browser_for(alice, FIREFOX_WINDOWS)
        # The phone has now been idle past the 60-minute default; the list no
        # longer shows it, so "sign out others" must not claim it either.
        traveller.shift(timedelta(minutes=40))
        listed = sessions_card(laptop.get("/settings/security/").content.decode())

        response = laptop.post("/settings/security/sessions/revoke-others/", follow=True)

    assert "iPhone" not in listed
    assert b"Signed out 1 other session." in response.content
    [event] = revoked_events()
    assert event.details["count"] == 1


def test_sign_out_others_with_htmx_answers_with_the_refreshed_list(alice):
    laptop = browser_for(alice)
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.post("/settings/security/sessions/revoke-others/", headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="session-list"' in content
    assert "<html" not in content
    assert toast_of(response)["message"].startswith("Signed out 1 other session.")
    assert revoke_url(phone) not in content
    assert THIS_DEVICE in content
    phone.refresh_from_db()
    assert phone.revoked_reason == "user"
    assert len(revoked_events()) == 1


def csrf_checked_browser_for(username: str) -> Client:
    """A browser whose requests Django checks for a CSRF token, signed in by the form."""
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


def test_revoking_without_a_csrf_token_is_refused(alice):
    laptop = csrf_checked_browser_for("alice")
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.post(revoke_url(phone))
    htmx_response = laptop.post(revoke_url(phone), headers=HTMX)

    assert response.status_code == 403
    assert htmx_response.status_code == 403
    phone.refresh_from_db()
    assert phone.revoked_at is None
    assert revoked_events() == []


def test_revoking_with_the_csrf_token_works(alice):
    laptop = csrf_checked_browser_for("alice")
    phone = row_of(browser_for(alice, SAFARI_IPHONE))
    laptop.get("/settings/security/")

    response = laptop.post(
        revoke_url(phone),
        headers={**HTMX, "X-CSRFToken": laptop.cookies[settings.CSRF_COOKIE_NAME].value},
    )

    assert response.status_code == 200
    phone.refresh_from_db()
    assert phone.revoked_reason == "user"


def test_signing_out_others_without_a_csrf_token_is_refused(alice):
    laptop = csrf_checked_browser_for("alice")
    phone = row_of(browser_for(alice, SAFARI_IPHONE))

    response = laptop.post("/settings/security/sessions/revoke-others/")

    assert response.status_code == 403
    phone.refresh_from_db()
    assert phone.revoked_at is None
    assert revoked_events() == []


def test_an_anonymous_htmx_request_gets_hx_redirect(db):
    response = Client().post("/settings/security/sessions/revoke-others/", headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?reason=signed_out&next=/settings/security/"


def test_with_htmx_revoking_the_current_session_answers_with_the_list(alice):
    browser = browser_for(alice)
    current = Session.objects.get(user=alice)

    response = browser.post(f"/settings/security/sessions/{current.pk}/revoke/", headers=HTMX)

    assert response.status_code == 200
    assert b'id="session-list"' in response.content
    assert b"<html" not in response.content
    assert toast_of(response) == {
        "message": "This is the device you are using; use Sign out.",
        "level": "error",
    }
    current.refresh_from_db()
    assert current.revoked_at is None
