"""The session endpoints of the API: sign-in, /me, the session list, revoking and
signing out (SPEC §6). Every session, browser or API, is one list and one revoke."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from conftest import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    PASSWORD,
    PYTHON_CLIENT,
    SAFARI_IPHONE,
    api_login,
    bearer,
    browser_for,
    full_width,
)
from sessions.models import RevokedReason, Session

SESSION_FIELDS = {
    "id",
    "kind",
    "device",
    "user_agent",
    "ip",
    "created_at",
    "last_seen_at",
    "idle_expires_at",
    "absolute_expires_at",
    "is_current",
}


def login(username: str, password: str = PASSWORD, user_agent: str = PYTHON_CLIENT):
    return Client(HTTP_USER_AGENT=user_agent).post(
        "/api/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )


def refresh(token: str):
    return Client().post("/api/auth/refresh", {"refresh": token}, content_type="application/json")


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]


@pytest.fixture
def devices(alice) -> dict:
    """alice on four devices: two browsers and two API clients."""
    return {
        "mac": browser_for(alice, CHROME_MAC),
        "iphone": browser_for(alice, SAFARI_IPHONE),
        "script": api_login(alice, PYTHON_CLIENT),
        "firefox_api": api_login(alice, FIREFOX_WINDOWS),
    }


def session_of(device: str, sessions: list[dict]) -> dict:
    return next(session for session in sessions if device in session["device"])


# Signing in


@pytest.mark.parametrize(
    "identifier",
    ["alice", "alice@acme.example", "ALICE", "Alice@ACME.example", full_width("alice")],
    ids=["username", "email", "username-other-case", "email-other-case", "full-width"],
)
def test_it_signs_in_by_username_or_email_in_any_case(alice, identifier):
    response = login(identifier)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "access_expires_at", "session"}
    assert body["refresh"].startswith("sprt_")
    assert body["session"]["kind"] == "api"
    assert body["session"]["is_current"] is True
    assert bearer(body["access"]).get("/api/auth/me").json()["username"] == "alice"
    session = Session.objects.get(pk=body["session"]["id"])
    assert session.user == alice
    assert session.kind == Session.Kind.API
    assert session.key_hash is None


def test_a_sign_in_creates_one_session_row_each_time(alice):
    first = login("alice").json()
    second = login("alice").json()

    assert first["session"]["id"] != second["session"]["id"]
    assert Session.objects.filter(user=alice, kind=Session.Kind.API).count() == 2


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "not the password at all"),
        ("alice", PASSWORD.upper()),
        ("nobody", PASSWORD),
        ("nobody@acme.example", PASSWORD),
        ("bob", PASSWORD),
    ],
    ids=["wrong-password", "wrong-case-password", "unknown-user", "unknown-email", "inactive"],
)
def test_every_failed_sign_in_gets_the_same_answer(alice, bob, username, password):
    bob.is_active = False
    bob.save()

    response = login(username, password)

    assert response.status_code == 401, response.content
    assert response.json() == {
        "detail": "The username or password is incorrect.",
        "code": "bad_credentials",
    }
    assert not Session.objects.exists()


def test_a_deactivated_user_cannot_sign_in_with_the_right_password(bob):
    bob.is_active = False
    bob.save()

    response = login("bob")

    assert_error(response, 401, "bad_credentials")
    assert not Session.objects.filter(user=bob).exists()


# GET /api/auth/me


def test_me_names_the_user_their_role_and_account(alice):
    access = api_login(alice)["access"]

    response = bearer(access).get("/api/auth/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@acme.example",
        "first_name": "",
        "last_name": "",
        "role": "owner",
        "account": {"id": alice.account.pk, "name": "Acme"},
    }


def test_me_answers_for_the_token_holder_only(alice, bob, carol):
    assert bearer(api_login(bob)["access"]).get("/api/auth/me").json()["role"] == "member"
    response = bearer(api_login(carol)["access"]).get("/api/auth/me")

    assert response.json()["username"] == "carol"
    assert response.json()["account"]["name"] == "Globex"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/auth/me"),
        ("get", "/api/auth/sessions"),
        ("post", "/api/auth/sessions/revoke-others"),
        ("post", "/api/auth/logout"),
    ],
)
def test_api_answers_are_never_cached(alice, method, url):
    access = api_login(alice)["access"]

    response = getattr(bearer(access), method)(url)

    assert response.status_code < 300
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "request_",
    [
        lambda: login("alice"),
        lambda: login("alice", "wrong password here"),
        lambda: refresh("sprt_" + "A" * 43),
        lambda: Client().get("/api/auth/me"),
    ],
    ids=["login", "failed-login", "failed-refresh", "unauthenticated"],
)
def test_token_answers_and_errors_are_never_cached(alice, request_):
    response = request_()

    assert "no-store" in response["Cache-Control"]


# GET /api/auth/sessions


def test_the_list_shows_every_browser_and_api_session_of_the_caller(devices, alice, bob):
    browser_for(bob)
    api_login(bob)

    response = bearer(devices["script"]["access"]).get("/api/auth/sessions")

    assert response.status_code == 200
    sessions = response.json()
    assert len(sessions) == 4
    assert all(set(session) == SESSION_FIELDS for session in sessions)
    assert {session["id"] for session in sessions} == {
        str(pk) for pk in Session.objects.filter(user=alice).values_list("pk", flat=True)
    }
    assert sorted(session["kind"] for session in sessions) == ["api", "api", "browser", "browser"]
    current = [session for session in sessions if session["is_current"]]
    assert [session["id"] for session in current] == [devices["script"]["session"]["id"]]
    devices_shown = [session["device"] for session in sessions]
    assert "Chrome 131 on macOS" in devices_shown
    assert any("iPhone" in device for device in devices_shown)
    mac = session_of("Chrome 131 on macOS", sessions)
    assert mac["user_agent"] == CHROME_MAC
    assert mac["ip"] == "127.0.0.1"


def test_the_list_never_shows_another_users_sessions(devices, bob, carol):
    api_login(bob)
    api_login(carol)
    browser_for(bob)
    browser_for(carol)
    others = {
        str(pk)
        for pk in Session.objects.exclude(user__username="alice").values_list("pk", flat=True)
    }

    sessions = bearer(devices["script"]["access"]).get("/api/auth/sessions").json()

    assert len(others) == 4
    assert not others & {session["id"] for session in sessions}
    assert len(sessions) == 4


def test_is_current_follows_the_caller(devices):
    sessions = bearer(devices["firefox_api"]["access"]).get("/api/auth/sessions").json()

    current = [session for session in sessions if session["is_current"]]
    assert [session["id"] for session in current] == [devices["firefox_api"]["session"]["id"]]


def test_the_list_leaves_out_ended_sessions(devices):
    Session.objects.get(pk=devices["firefox_api"]["session"]["id"]).revoke(
        reason=RevokedReason.ADMIN, actor=None
    )

    sessions = bearer(devices["script"]["access"]).get("/api/auth/sessions").json()

    assert devices["firefox_api"]["session"]["id"] not in {session["id"] for session in sessions}
    assert len(sessions) == 3


# DELETE /api/auth/sessions/{id}


def test_deleting_another_api_session_ends_it_at_once(devices, alice):
    victim = devices["firefox_api"]

    response = bearer(devices["script"]["access"]).delete(
        f"/api/auth/sessions/{victim['session']['id']}"
    )

    assert response.status_code == 204
    assert response.content == b""
    session = Session.objects.get(pk=victim["session"]["id"])
    assert session.revoked_at is not None
    assert session.revoked_reason == RevokedReason.USER
    event = AuditEvent.objects.get(action="session.revoked")
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"session:{session.pk}"
    assert event.details["reason"] == "user"
    # The victim's access token has minutes left, and is dead anyway.
    assert_error(bearer(victim["access"]).get("/api/auth/me"), 401, "session_revoked")
    assert_error(refresh(victim["refresh"]), 401, "session_revoked")


def test_deleting_a_browser_session_signs_that_browser_out(devices, alice):
    sessions = bearer(devices["script"]["access"]).get("/api/auth/sessions").json()
    phone = session_of("iPhone", sessions)

    response = bearer(devices["script"]["access"]).delete(f"/api/auth/sessions/{phone['id']}")

    assert response.status_code == 204
    assert Session.objects.get(pk=phone["id"]).revoked_reason == RevokedReason.USER
    signed_out = devices["iphone"].get("/settings/security/")
    assert signed_out.status_code == 302
    assert signed_out.url.startswith("/login/?reason=session_expired")
    assert devices["mac"].get("/settings/security/").status_code == 200


def test_the_current_session_cannot_be_deleted(devices):
    current = devices["script"]

    response = bearer(current["access"]).delete(f"/api/auth/sessions/{current['session']['id']}")

    assert_error(response, 400, "current_session")
    assert Session.objects.get(pk=current["session"]["id"]).revoked_at is None
    assert bearer(current["access"]).get("/api/auth/me").status_code == 200
    assert not AuditEvent.objects.filter(action="session.revoked").exists()


@pytest.mark.parametrize("owner", ["bob", "carol"], ids=["same-account", "other-account"])
def test_another_users_session_is_not_found(devices, bob, carol, owner):
    theirs = api_login(bob if owner == "bob" else carol)

    response = bearer(devices["script"]["access"]).delete(
        f"/api/auth/sessions/{theirs['session']['id']}"
    )

    assert_error(response, 404, "not_found")
    assert Session.objects.get(pk=theirs["session"]["id"]).revoked_at is None
    assert bearer(theirs["access"]).get("/api/auth/me").status_code == 200
    assert not AuditEvent.objects.filter(action="session.revoked").exists()


def test_another_users_browser_session_is_not_found(devices, carol):
    browser_for(carol)
    theirs = Session.objects.get(user=carol)

    response = bearer(devices["script"]["access"]).delete(f"/api/auth/sessions/{theirs.pk}")

    assert_error(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(
    "session_id",
    [str(uuid.uuid4()), "not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"],
    ids=["unknown-uuid", "not-a-uuid", "number", "nil-uuid"],
)
def test_an_unknown_session_id_is_not_found(devices, session_id):
    response = bearer(devices["script"]["access"]).delete(f"/api/auth/sessions/{session_id}")

    assert_error(response, 404, "not_found")
    assert response["Content-Type"] == "application/json"


def test_an_already_revoked_session_is_not_found(devices):
    victim = devices["firefox_api"]["session"]["id"]
    bearer(devices["script"]["access"]).delete(f"/api/auth/sessions/{victim}")

    response = bearer(devices["script"]["access"]).delete(f"/api/auth/sessions/{victim}")

    assert_error(response, 404, "not_found")
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1


# POST /api/auth/sessions/revoke-others


def test_revoke_others_leaves_only_the_callers_session(devices, alice, bob):
    bobs = api_login(bob)

    response = bearer(devices["script"]["access"]).post("/api/auth/sessions/revoke-others")

    assert response.status_code == 200
    assert response.json() == {"revoked_count": 3}
    live = Session.objects.filter(user=alice, revoked_at__isnull=True)
    assert [str(session.pk) for session in live] == [devices["script"]["session"]["id"]]
    revoked = Session.objects.filter(user=alice, revoked_at__isnull=False)
    assert {session.revoked_reason for session in revoked} == {RevokedReason.USER}
    assert Session.objects.get(pk=bobs["session"]["id"]).revoked_at is None
    event = AuditEvent.objects.get(action="session.revoked")
    assert event.actor == alice
    assert event.details["count"] == 3
    assert_error(
        bearer(devices["firefox_api"]["access"]).get("/api/auth/me"), 401, "session_revoked"
    )
    assert (
        devices["mac"].get("/settings/security/").url.startswith("/login/?reason=session_expired")
    )
    assert bearer(devices["script"]["access"]).get("/api/auth/me").status_code == 200


def test_revoke_others_with_no_other_sessions_revokes_nothing(alice):
    access = api_login(alice)["access"]

    response = bearer(access).post("/api/auth/sessions/revoke-others")

    assert response.status_code == 200
    assert response.json() == {"revoked_count": 0}
    assert not AuditEvent.objects.filter(action="session.revoked").exists()


def test_revoke_others_counts_only_sessions_that_were_still_live(alice, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    idle = api_login(alice)
    time_machine.shift(timedelta(minutes=61))
    current = api_login(alice)
    shown = bearer(current["access"]).get("/api/auth/sessions").json()

    response = bearer(current["access"]).post("/api/auth/sessions/revoke-others")

    # The list offered nothing else to sign out, so nothing was signed out.
    assert len(shown) == 1
    assert response.json() == {"revoked_count": 0}
    session = Session.objects.get(pk=idle["session"]["id"])
    assert session.revoked_reason != RevokedReason.USER


# POST /api/auth/logout


def test_logout_ends_the_current_session(devices, alice):
    current = devices["script"]

    response = bearer(current["access"]).post("/api/auth/logout")

    assert response.status_code == 204
    session = Session.objects.get(pk=current["session"]["id"])
    assert session.revoked_at is not None
    assert session.revoked_reason == RevokedReason.LOGOUT
    event = AuditEvent.objects.get(action="session.revoked")
    assert event.actor == alice
    assert event.details["reason"] == "logout"
    assert_error(bearer(current["access"]).get("/api/auth/me"), 401, "session_revoked")
    assert_error(refresh(current["refresh"]), 401, "session_revoked")
    other = devices["firefox_api"]["access"]
    assert bearer(other).get("/api/auth/me").status_code == 200


def test_logout_twice_is_refused_the_second_time(alice):
    access = api_login(alice)["access"]
    bearer(access).post("/api/auth/logout")

    response = bearer(access).post("/api/auth/logout")

    assert_error(response, 401, "session_revoked")
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/auth/me"),
        ("get", "/api/auth/sessions"),
        ("delete", f"/api/auth/sessions/{uuid.uuid4()}"),
        ("post", "/api/auth/sessions/revoke-others"),
        ("post", "/api/auth/logout"),
    ],
)
def test_session_endpoints_refuse_a_signed_in_browser_cookie(alice_browser, method, url):
    # Bearer tokens only: a cookie-authenticated API would need CSRF protection.
    response = getattr(alice_browser, method)(url)

    assert_error(response, 401, "not_authenticated")
    assert Session.objects.get().revoked_at is None


def test_a_deactivated_users_tokens_are_refused_as_user_inactive(alice):
    tokens = api_login(alice)

    alice.is_active = False
    alice.save()

    me = bearer(tokens["access"]).get("/api/auth/me")
    refreshed = Client().post(
        "/api/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    # Not "signed out" (sign in again) but "deactivated": only an administrator helps.
    assert_error(me, 401, "user_inactive")
    assert_error(refreshed, 401, "user_inactive")


def test_reactivating_a_user_does_not_bring_back_their_tokens_or_cookies(alice):
    tokens = api_login(alice)
    browser = browser_for(alice)
    alice.is_active = False
    alice.save()
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == 401
    assert browser.get("/settings/security/").status_code == 302

    alice.is_active = True
    alice.save()

    assert bearer(tokens["access"]).get("/api/auth/me").status_code == 401
    refreshed = Client().post(
        "/api/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 401
    assert browser.get("/settings/security/").status_code == 302
    assert set(Session.objects.values_list("revoked_reason", flat=True)) == {"admin"}
    # Both sessions ended at the deactivation itself: one audit row for the two.
    [revocation] = AuditEvent.objects.filter(action="session.revoked", user=alice)
    assert revocation.actor is None
    assert revocation.details == {"reason": "admin", "scope": "deactivated", "count": 2}


def test_an_api_sign_in_counts_as_a_sign_in(alice):
    api_login(alice)

    alice.refresh_from_db()
    assert alice.last_login is not None
