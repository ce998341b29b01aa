"""Changing a password, from the Password card, the API, the shell or code: every other
session ends (browser and API, refresh tokens included), the changing one stays signed
in under a new key, the change is audited once and the user is e-mailed (SPEC §5-§7)."""

import hashlib
import io
import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from accounts.forms import ChangePasswordForm
from accounts.models import User
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
from securityportal import settings as production_settings
from sessions.models import RevokedReason, Session
from sessions.store import SessionStore

# The e-mails leave when the action's transaction commits: no test transaction
# wraps these tests, so each request's own transaction is the outermost one and
# commits (or rolls back) as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a brand new lengthy passphrase"
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"}
LONG_PASSWORD = "".join(f"{n:02d}-quiet-harbour-" for n in range(10))[:128]


def change_form(
    old: str = PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None
) -> dict[str, str]:
    return {
        "old_password": old,
        "new_password1": new,
        "new_password2": new if confirm is None else confirm,
    }


def put_password(client: Client, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.put(
        "/api/auth/password",
        {"current_password": current, "new_password": new},
        content_type="application/json",
    )


def refresh(token: str):
    return Client().post("/api/auth/refresh", {"refresh": token}, content_type="application/json")


def signs_in(password: str, username: str = "alice", client: Client | None = None) -> bool:
    client = client or Client(HTTP_USER_AGENT=CHROME_MAC)
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code == 302


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def is_signed_in(browser: Client) -> bool:
    return browser.get("/settings/security/").status_code == 200


def is_sent_to_login(browser: Client) -> bool:
    response = browser.get("/settings/security/")
    return response.status_code == 302 and response["Location"].startswith(
        "/login/?reason=session_expired"
    )


def is_security_page(url: str) -> bool:
    return urlsplit(url).path == "/settings/security/"


def reloads_the_security_page(response) -> bool:
    """What HTMX is told after a change: reload the security page it was sent from,
    since its session list changed too."""
    return response.get("HX-Refresh") == "true"


def password_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="password.changed"))


def form_errors(response) -> dict[str, list[str]]:
    return response.context["password_form"].errors


@pytest.fixture
def three_sessions(alice) -> dict:
    """alice signed in as A (laptop, changing the password), B (phone) and C (a script);
    the sign-ins' new-device e-mails are cleared."""
    sessions = {
        "a": browser_for(alice),
        "b": browser_for(alice, SAFARI_IPHONE),
        "c": api_login(alice),
    }
    mail.outbox.clear()
    return sessions


# The change and what it ends


def test_a_password_change_signs_out_every_other_session_and_keeps_this_one(alice, three_sessions):
    a, b, c = three_sessions["a"], three_sessions["b"], three_sessions["c"]
    a_row, b_row = row_of(a), row_of(b)

    response = a.post("/settings/security/password/", change_form())
    outbox = list(mail.outbox)

    assert response.status_code == 302
    assert is_security_page(response["Location"])
    assert is_signed_in(a)
    assert is_sent_to_login(b)
    assert bearer(c["access"]).get("/api/auth/me").status_code == 401
    assert refresh(c["refresh"]).status_code == 401
    assert signs_in(NEW_PASSWORD, client=b)
    assert not signs_in(PASSWORD)
    assert len(outbox) == 1
    assert outbox[0].to == ["alice@acme.example"]
    assert "password" in outbox[0].subject
    assert "2 other sessions signed in to your account were signed out" in outbox[0].body
    a_row.refresh_from_db()
    b_row.refresh_from_db()
    c_row = Session.objects.get(pk=c["session"]["id"])
    assert a_row.revoked_at is None
    assert b_row.revoked_reason == RevokedReason.PASSWORD_CHANGE
    assert c_row.revoked_reason == RevokedReason.PASSWORD_CHANGE
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    [event] = password_events()
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"user:{alice.pk}"
    assert event.details == {"revoked_count": 2}
    assert event.ip == "127.0.0.1"


def test_a_password_change_rotates_the_cookie_key_of_the_session_that_made_it(
    alice, three_sessions
):
    a = three_sessions["a"]
    old_key = a.cookies[settings.SESSION_COOKIE_NAME].value
    row_before = row_of(a)

    a.post("/settings/security/password/", change_form())

    new_key = a.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert is_signed_in(a)
    stale = Client(HTTP_USER_AGENT=CHROME_MAC)
    stale.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert is_sent_to_login(stale)
    # Same session, new key: its history and limits carry on.
    assert row_of(a).pk == row_before.pk


def test_the_page_says_how_many_other_sessions_were_signed_out(alice, three_sessions):
    response = three_sessions["a"].post("/settings/security/password/", change_form(), follow=True)

    [(landed_on, status)] = response.redirect_chain
    assert (is_security_page(landed_on), status) == (True, 302)
    assert b"Your password was changed. 2 other sessions were signed out." in response.content


def test_the_page_says_one_other_session_in_the_singular(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    response = laptop.post("/settings/security/password/", change_form(), follow=True)

    assert b"1 other session was signed out." in response.content


def test_with_htmx_a_password_change_reloads_the_security_page(alice, three_sessions):
    a, b = three_sessions["a"], three_sessions["b"]

    response = a.post("/settings/security/password/", change_form(), headers=HTMX)

    assert response.status_code == 200
    assert reloads_the_security_page(response)
    page = a.get("/settings/security/")
    assert b"2 other sessions were signed out." in page.content
    assert is_sent_to_login(b)
    assert row_of(a).revoked_at is None
    assert len(password_events()) == 1
    assert len(mail.outbox) == 1


# Refused changes change nothing


def assert_nothing_changed(alice, three_sessions) -> None:
    assert is_signed_in(three_sessions["b"])
    assert bearer(three_sessions["c"]["access"]).get("/api/auth/me").status_code == 200
    assert not Session.objects.filter(user=alice, revoked_at__isnull=False).exists()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert password_events() == []
    assert mail.outbox == []


def test_a_wrong_current_password_is_a_form_error_and_changes_nothing(alice, three_sessions):
    response = three_sessions["a"].post(
        "/settings/security/password/", change_form(old="not my password at all")
    )

    assert response.status_code == 200
    assert b"<html" in response.content
    assert b"Your current password is not correct." in response.content
    assert list(form_errors(response)) == ["old_password"]
    assert_nothing_changed(alice, three_sessions)


def test_the_current_password_again_is_refused_and_changes_nothing(alice, three_sessions):
    # "Change your password now: whoever signed in there knows it." Typing the same
    # one again must not be reported, e-mailed and audited as a change.
    page = three_sessions["a"].post("/settings/security/password/", change_form(new=PASSWORD))
    api = put_password(bearer(three_sessions["c"]["access"]), new=PASSWORD)

    assert page.status_code == 200
    assert form_errors(page) == {
        "new_password1": ["Choose a password other than your current one."]
    }
    assert api.status_code == 400
    assert api.json()["code"] == "password_unchanged"
    assert api.json()["fields"] == {
        "new_password": ["Choose a password other than your current one."]
    }
    assert_nothing_changed(alice, three_sessions)


def test_a_new_password_like_the_current_one_tells_nothing_before_the_current_is_checked(
    alice, three_sessions
):
    # Compared only once the current password is proven: otherwise a stolen session
    # could test guesses at the current password through the new one, unlocked out.
    api = put_password(
        bearer(three_sessions["c"]["access"]), current="a wrong guess", new=PASSWORD
    )

    assert api.status_code == 400
    assert api.json()["fields"] == {"current_password": ["Your current password is not correct."]}


def test_with_htmx_a_wrong_current_password_answers_with_the_card_form(alice, three_sessions):
    response = three_sessions["a"].post(
        "/settings/security/password/", change_form(old="not my password at all"), headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<form id="password-form"')
    assert "Your current password is not correct." in content
    assert not reloads_the_security_page(response)
    assert_nothing_changed(alice, three_sessions)


WEAK_PASSWORDS = {
    "too-short": ("Vq7#mrTz!2k", "at least 12 characters"),
    "common": ("password1234", "too common"),
    "numeric": ("738291046573", "entirely numeric"),
    "similar-to-the-email": ("alice@acme.example", "too similar"),
    "too-long": ("x7" * 512 + "y", "1024 characters"),
}


@pytest.mark.parametrize(("weak", "message"), WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS)
def test_a_new_password_failing_a_validator_is_a_field_error(alice, three_sessions, weak, message):
    response = three_sessions["a"].post("/settings/security/password/", change_form(new=weak))

    assert response.status_code == 200
    assert message in response.content.decode()
    errors = form_errors(response)
    assert "old_password" not in errors
    assert {"new_password1", "new_password2"} & set(errors)
    assert_nothing_changed(alice, three_sessions)


@pytest.mark.parametrize(("weak", "message"), WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS)
def test_the_api_refuses_a_new_password_failing_a_validator(alice, three_sessions, weak, message):
    response = put_password(bearer(three_sessions["c"]["access"]), new=weak)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert body["code"]
    assert list(body["fields"]) == ["new_password"]
    assert any(message in error for error in body["fields"]["new_password"])
    assert_nothing_changed(alice, three_sessions)


def test_a_mismatched_confirmation_is_an_error_and_changes_nothing(alice, three_sessions):
    response = three_sessions["a"].post(
        "/settings/security/password/",
        change_form(confirm=NEW_PASSWORD + "!"),
    )

    assert response.status_code == 200
    mismatch = str(ChangePasswordForm.error_messages["password_mismatch"])
    assert mismatch in response.content.decode()
    [error] = form_errors(response).as_data()["new_password2"]
    assert error.code == "password_mismatch"
    assert_nothing_changed(alice, three_sessions)


def test_a_128_character_password_is_kept_whole(alice):
    laptop = browser_for(alice)

    response = laptop.post("/settings/security/password/", change_form(new=LONG_PASSWORD))

    assert len(LONG_PASSWORD) == 128
    assert response.status_code == 302
    assert not signs_in(LONG_PASSWORD[:-1])
    assert signs_in(LONG_PASSWORD)
    alice.refresh_from_db()
    assert alice.check_password(LONG_PASSWORD)
    assert not alice.check_password(LONG_PASSWORD[:-1])


def test_a_password_change_without_a_csrf_token_is_refused(alice):
    laptop = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=CHROME_MAC)
    laptop.get("/login/")
    laptop.post(
        "/login/",
        {
            "username": "alice",
            "password": PASSWORD,
            "csrfmiddlewaretoken": laptop.cookies[settings.CSRF_COOKIE_NAME].value,
        },
    )
    phone = browser_for(alice, SAFARI_IPHONE)

    response = laptop.post("/settings/security/password/", change_form())
    htmx_response = laptop.post("/settings/security/password/", change_form(), headers=HTMX)

    assert response.status_code == 403
    assert htmx_response.status_code == 403
    assert is_signed_in(phone)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert password_events() == []


def test_a_password_change_with_the_csrf_token_works(alice):
    laptop = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=CHROME_MAC)
    laptop.get("/login/")
    laptop.post(
        "/login/",
        {
            "username": "alice",
            "password": PASSWORD,
            "csrfmiddlewaretoken": laptop.cookies[settings.CSRF_COOKIE_NAME].value,
        },
    )
    token = laptop.cookies[settings.CSRF_COOKIE_NAME].value

    response = laptop.post(
        "/settings/security/password/", {**change_form(), "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert len(password_events()) == 1


def test_the_password_route_rejects_get(alice):
    laptop = browser_for(alice)

    response = laptop.get("/settings/security/password/")

    assert response.status_code == 405
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_anonymous_visitors_are_sent_to_login(alice):
    phone = browser_for(alice, SAFARI_IPHONE)
    visitor = Client(HTTP_USER_AGENT=CHROME_MAC)

    response = visitor.post("/settings/security/password/", change_form())
    htmx_response = visitor.post("/settings/security/password/", change_form(), headers=HTMX)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert htmx_response["HX-Redirect"].startswith("/login/")
    assert is_signed_in(phone)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert password_events() == []


# The API


def test_the_api_changes_the_password_and_keeps_only_the_calling_session(alice):
    script = api_login(alice)
    laptop = browser_for(alice)
    other_script = api_login(alice, FIREFOX_WINDOWS)
    laptop_row = row_of(laptop)
    mail.outbox.clear()

    response = put_password(bearer(script["access"]))

    assert response.status_code == 200
    assert response.json() == {"revoked_count": 2}
    assert bearer(script["access"]).get("/api/auth/me").status_code == 200
    assert refresh(script["refresh"]).status_code == 200
    assert is_sent_to_login(laptop)
    assert bearer(other_script["access"]).get("/api/auth/me").status_code == 401
    assert refresh(other_script["refresh"]).status_code == 401
    assert Session.objects.get(pk=script["session"]["id"]).revoked_at is None
    assert Session.objects.get(pk=other_script["session"]["id"]).revoked_reason == (
        RevokedReason.PASSWORD_CHANGE
    )
    laptop_row.refresh_from_db()
    assert laptop_row.revoked_reason == RevokedReason.PASSWORD_CHANGE
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    [event] = password_events()
    assert event.actor == alice
    assert event.details == {"revoked_count": 2}
    assert len(mail.outbox) == 1


def test_the_api_refuses_a_wrong_current_password_with_a_field_error(alice, three_sessions):
    response = put_password(bearer(three_sessions["c"]["access"]), current="not it at all")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "password_incorrect"
    assert body["fields"]["current_password"] == ["Your current password is not correct."]
    assert_nothing_changed(alice, three_sessions)


def test_the_api_refuses_a_password_change_without_a_token(alice, three_sessions):
    response = put_password(Client())

    assert response.status_code == 401
    assert_nothing_changed(alice, three_sessions)


def test_the_api_refuses_a_body_that_is_not_an_object(alice, three_sessions):
    response = bearer(three_sessions["c"]["access"]).put(
        "/api/auth/password", json.dumps(["hello"]), content_type="application/json"
    )

    assert response.status_code == 400
    assert_nothing_changed(alice, three_sessions)


# Every other way a password changes


def test_a_password_set_by_manage_py_changepassword_ends_every_session(
    alice, three_sessions, monkeypatch
):
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": NEW_PASSWORD)
    c = three_sessions["c"]

    call_command("changepassword", "alice", stdout=io.StringIO(), stderr=io.StringIO())

    assert bearer(c["access"]).get("/api/auth/me").status_code == 401
    assert refresh(c["refresh"]).status_code == 401
    assert is_sent_to_login(three_sessions["a"])
    assert is_sent_to_login(three_sessions["b"])
    reasons = set(Session.objects.filter(user=alice).values_list("revoked_reason", flat=True))
    assert reasons == {RevokedReason.PASSWORD_CHANGE}
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    [event] = password_events()
    assert event.actor is None
    assert event.user == alice
    assert event.details == {"revoked_count": 3}
    assert len(mail.outbox) == 1


def test_set_password_and_save_in_code_ends_every_session_as_a_password_change(
    alice, three_sessions
):
    alice.set_password(NEW_PASSWORD)
    alice.save()

    assert is_sent_to_login(three_sessions["a"])
    assert bearer(three_sessions["c"]["access"]).get("/api/auth/me").status_code == 401
    rows = Session.objects.filter(user=alice)
    assert rows.count() == 3
    assert {row.revoked_reason for row in rows} == {RevokedReason.PASSWORD_CHANGE}
    assert not rows.filter(revoked_reason=RevokedReason.LOGOUT).exists()
    [event] = password_events()
    assert event.actor is None
    assert event.ip is None
    assert event.details == {"revoked_count": 3}
    assert not AuditEvent.objects.filter(action="session.revoked").exists()


class RolledBack(Exception):
    """Raised inside a transaction to undo everything done in it."""


def test_a_password_change_that_rolls_back_is_not_emailed(alice, three_sessions):
    with pytest.raises(RolledBack), transaction.atomic():
        response = three_sessions["a"].post("/settings/security/password/", change_form())
        assert response.status_code == 302
        raise RolledBack

    # No "password changed" for a change that never happened.
    assert_nothing_changed(alice, three_sessions)


def test_a_password_change_leaves_other_users_signed_in(alice, bob):
    bobs = browser_for(bob, FIREFOX_WINDOWS)
    alice.set_password(NEW_PASSWORD)
    alice.save()

    assert is_signed_in(bobs)
    assert row_of(bobs).revoked_at is None


def test_a_hasher_upgrade_at_sign_in_ends_no_session(alice, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        *production_settings.PASSWORD_HASHERS,
    ]
    # An account whose hash predates Argon2 (stored as a migration would have left it).
    User.objects.filter(pk=alice.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    laptop = browser_for(alice)
    script = api_login(alice)
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    mail.outbox.clear()

    phone = browser_for(alice, SAFARI_IPHONE)

    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$")
    assert is_signed_in(laptop)
    assert is_signed_in(phone)
    assert bearer(script["access"]).get("/api/auth/me").status_code == 200
    assert refresh(script["refresh"]).status_code == 200
    assert not Session.objects.filter(user=alice, revoked_at__isnull=False).exists()
    assert password_events() == []
    assert [message.subject for message in mail.outbox] == [
        "New sign-in to your Security Portal account"
    ]


def test_a_browser_session_bound_to_the_old_password_hash_is_re_keyed_not_signed_out(alice):
    # Sessions signed in while Django's session hash followed the stored password hash.
    laptop = browser_for(alice)
    row = row_of(laptop)
    store = SessionStore()
    data = store.decode(row.session_data)
    data[HASH_SESSION_KEY] = AbstractBaseUser.get_session_auth_hash(alice)
    Session.objects.filter(pk=row.pk).update(session_data=store.encode(data))
    old_key = laptop.cookies[settings.SESSION_COOKIE_NAME].value

    assert is_signed_in(laptop)

    assert laptop.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert is_signed_in(laptop)
    row.refresh_from_db()
    assert row.revoked_at is None
    assert store.decode(row.session_data)[HASH_SESSION_KEY] == alice.get_session_auth_hash()


def test_creating_a_user_is_not_a_password_change(acme):
    User.objects.create_user(
        username="dave", email="dave@acme.example", password=NEW_PASSWORD, account=acme
    )

    assert password_events() == []
    assert mail.outbox == []


# Guessing the current password with a stolen session


def test_guessing_the_current_password_on_the_page_is_locked_out_like_sign_in(alice):
    laptop = browser_for(alice)
    url = "/settings/security/password/"
    for _ in range(5):
        laptop.post(url, change_form(old="a wrong guess at it"))

    response = laptop.post(url, change_form())

    assert response.status_code == 200
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()
    assert signs_in(NEW_PASSWORD) is False
    assert signs_in(PASSWORD) is False  # the same lockout holds for signing in from here
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_guessing_the_current_password_through_the_api_answers_429(alice):
    client = bearer(api_login(alice)["access"])
    for _ in range(5):
        assert put_password(client, current="a wrong guess at it").status_code == 400

    response = put_password(client)

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == 900
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def confirm_failures() -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(action="password.confirm_failed").order_by("id")
    return [(row.details["purpose"], row.details["reason"]) for row in rows]


def test_each_wrong_guess_and_the_lockout_it_leads_to_are_in_the_audit_trail(alice):
    client = bearer(api_login(alice)["access"])
    for _ in range(5):
        put_password(client, current="a wrong guess at it")

    put_password(client)

    assert confirm_failures() == [("password_change", "bad_credentials")] * 5 + [
        ("password_change", "locked_out")
    ]
    row = AuditEvent.objects.filter(action="password.confirm_failed").first()
    assert (row.user, row.actor, row.account) == (alice, alice, alice.account)
    assert row.ip == "127.0.0.1"


def test_the_right_current_password_writes_no_failure_row(alice):
    put_password(bearer(api_login(alice)["access"]))

    assert confirm_failures() == []


# Every way a stored password changes


@pytest.mark.parametrize(
    "change",
    [
        lambda user: setattr(user, "password", make_password("another long passphrase")),
        lambda user: user.set_unusable_password(),
    ],
    ids=["hash-assigned", "unusable"],
)
def test_a_hash_stored_without_set_password_also_ends_every_session(alice, change):
    browser = browser_for(alice)
    api = api_login(alice)
    user = User.objects.get(pk=alice.pk)

    change(user)
    user.save()

    assert is_sent_to_login(browser)
    assert bearer(api["access"]).get("/api/auth/me").status_code == 401
    assert refresh(api["refresh"]).status_code == 401
    assert set(Session.objects.values_list("revoked_reason", flat=True)) == {"password_change"}
    assert len(password_events()) == 1


def test_saving_other_fields_of_a_user_ends_no_session(alice):
    browser = browser_for(alice)
    user = User.objects.get(pk=alice.pk)

    user.first_name = "Alice"
    user.save()

    assert is_signed_in(browser)
    assert password_events() == []
