"""No password, session key, refresh token or access token ever reaches a log record
(plain or JSON lines), an audit row or an e-mail (SPEC §7), whatever the flow: sign-ins
that fail and succeed, refresh rotation and replay, password changes, sign-outs."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from audit.models import AuditEvent, LoginEvent
from conftest import CHROME_MAC, PASSWORD, PYTHON_CLIENT, SAFARI_IPHONE, bearer
from sessions.models import RefreshToken, Session

# The e-mails leave when the action's transaction commits: no test transaction
# wraps these tests, so each request's own transaction is the outermost one and
# commits (or rolls back) as in production.
pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WRONG_PASSWORD = "hunter2-but-much-longer-than-that"
PAGE_PASSWORD = "first new passphrase set on the page"
API_PASSWORD = "second new passphrase set through the api"
REJECTED_PASSWORD = "a rejected attempt typed into the form"
# Django logs every 4xx answer here: django.request, and CSRF refusals on their own.
REFUSAL_LOGGERS = {"django.request", "django.security.csrf"}


class Secrets:
    """Every secret the flow handles: what was typed, what was handed out."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str) -> None:
        for value in values:
            assert len(value) >= 12, "too short to search for without false alarms"
            self.values.add(value)

    def add_cookies(self, client: Client) -> None:
        self.add(*(cookie.value for cookie in client.cookies.values() if cookie.value))

    def add_pair(self, pair: dict) -> None:
        access, refresh = pair["access"], pair["refresh"]
        # A JWT's signature alone would let no one in, but it is still never written.
        self.add(access, access.rsplit(".", 1)[1], refresh)

    def found_in(self, place: str, text: str) -> list[tuple[str, str]]:
        return [(place, secret) for secret in sorted(self.values) if secret in text]


def sign_in(client: Client, password: str):
    return client.post("/login/", {"username": "alice", "password": password})


def api_sign_in(password: str):
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/login",
        {"username": "alice", "password": password},
        content_type="application/json",
    )


def refresh(token: str):
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def put_password(access: str, current: str, new: str):
    return bearer(access).put(
        "/api/auth/password",
        {"current_password": current, "new_password": new},
        content_type="application/json",
    )


def change_form(old: str, new: str) -> dict[str, str]:
    return {"old_password": old, "new_password1": new, "new_password2": new}


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write for ``record``: message, arguments, traceback
    and every extra attribute (such as the request django.request passes along)."""
    parts = [record.getMessage(), repr(record.args), record.exc_text or ""]
    parts += [str(value) for value in vars(record).values()]
    return "\n".join(parts)


def row_text(row) -> str:
    return "\n".join(str(getattr(row, field.attname)) for field in row._meta.concrete_fields)


def run_the_whole_flow(alice, secrets: Secrets) -> None:
    secrets.add(PASSWORD, WRONG_PASSWORD, PAGE_PASSWORD, API_PASSWORD, REJECTED_PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        laptop = Client(HTTP_USER_AGENT=CHROME_MAC)
        assert sign_in(laptop, WRONG_PASSWORD).status_code == 200
        assert api_sign_in(WRONG_PASSWORD).status_code == 401
        # A form posted without its CSRF token is logged as refused, body and all unread.
        guarded = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=CHROME_MAC)
        assert sign_in(guarded, PASSWORD).status_code == 403

        assert sign_in(laptop, PASSWORD).status_code == 302
        secrets.add_cookies(laptop)
        phone = Client(HTTP_USER_AGENT=SAFARI_IPHONE)
        assert sign_in(phone, PASSWORD).status_code == 302
        secrets.add_cookies(phone)

        script = api_sign_in(PASSWORD).json()
        secrets.add_pair(script)
        traveller.shift(timedelta(seconds=30))
        rotated = refresh(script["refresh"])
        assert rotated.status_code == 200
        secrets.add_pair(rotated.json())
        traveller.shift(timedelta(minutes=1))
        replay = refresh(script["refresh"])
        assert replay.json()["code"] == "token_reused"
        assert bearer(rotated.json()["access"]).get("/api/auth/me").status_code == 401

        refused = laptop.post(
            "/settings/security/password/", change_form(WRONG_PASSWORD, REJECTED_PASSWORD)
        )
        assert refused.status_code == 200
        changed = laptop.post("/settings/security/password/", change_form(PASSWORD, PAGE_PASSWORD))
        assert changed.status_code == 302
        secrets.add_cookies(laptop)

        second_script = api_sign_in(PAGE_PASSWORD).json()
        secrets.add_pair(second_script)
        access = second_script["access"]
        assert put_password(access, WRONG_PASSWORD, API_PASSWORD).status_code == 400
        assert put_password(access, PAGE_PASSWORD, "short").status_code == 400
        changed_by_api = put_password(access, PAGE_PASSWORD, API_PASSWORD)
        assert changed_by_api.json() == {"revoked_count": 1}

        assert bearer(second_script["access"]).post("/api/auth/logout").status_code == 204
        assert bearer(second_script["access"]).get("/api/auth/me").status_code == 401

        assert sign_in(laptop, API_PASSWORD).status_code == 302
        secrets.add_cookies(laptop)
        assert sign_in(phone, API_PASSWORD).status_code == 302
        secrets.add_cookies(phone)
        revoked = laptop.post("/settings/security/sessions/revoke-others/")
        assert revoked.status_code == 302
        # The phone's cookie is refused now; presenting it is logged nowhere either.
        assert phone.get("/settings/security/").status_code == 302
        assert laptop.post("/logout/").status_code == 302


def test_no_secret_reaches_a_log_record_an_audit_row_or_an_email(alice, caplog, settings):
    settings.DEBUG = False
    caplog.set_level(logging.DEBUG)
    secrets = Secrets()

    run_the_whole_flow(alice, secrets)

    leaks = []
    for record in caplog.records:
        leaks += secrets.found_in(f"log record {record.name}", record_text(record))
    for event in AuditEvent.objects.all():
        text = f"{event.target}\n{json.dumps(event.details)}\n{row_text(event)}"
        leaks += secrets.found_in(f"audit event {event.action}", text)
    for event in LoginEvent.objects.all():
        leaks += secrets.found_in("login event", row_text(event))
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}\n{message.alternatives}"
        leaks += secrets.found_in(f"e-mail {message.subject!r}", text)
    for row in [*Session.objects.all(), *RefreshToken.objects.all()]:
        leaks += secrets.found_in(type(row).__name__, row_text(row))
    assert leaks == []
    # The flow did reach every place searched; an empty search would prove nothing.
    assert len(secrets.values) >= 15
    assert caplog.records
    assert {"login.new_device", "password.changed", "refresh_token.reuse_detected"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
    assert LoginEvent.objects.filter(success=False).exists()
    assert {m.subject for m in mail.outbox} == {
        "New sign-in to your Security Portal account",
        "Your Security Portal password was changed",
    }


def test_no_secret_reaches_a_json_log_line(alice, json_log, settings):
    """What LOG_FORMAT=json writes, request context and access lines included."""
    settings.DEBUG = False
    secrets = Secrets()

    run_the_whole_flow(alice, secrets)

    assert secrets.found_in("JSON log", json_log.text) == []
    access = [line for line in json_log.lines() if line["logger"] == "securityportal.access"]
    # Every request of the flow was written, each with its id; the signed-in ones
    # name alice and a session, so the search above did cover those fields.
    assert len(access) >= 20
    assert all(line["request_id"] for line in access)
    assert {line["user_id"] for line in access} == {None, alice.pk}
    assert any(line["session_id"] for line in access)
    assert {line["path"] for line in access} >= {"/api/auth/refresh", "/api/auth/password"}


def test_refused_requests_are_logged_without_their_bodies(alice, caplog, settings):
    settings.DEBUG = False
    caplog.set_level(logging.DEBUG)

    run_the_whole_flow(alice, Secrets())

    refusals = [r for r in caplog.records if r.name in REFUSAL_LOGGERS]
    assert {r.status_code for r in refusals} >= {400, 401, 403}
    for record in refusals:
        message = record.getMessage()
        assert record.levelno == logging.WARNING
        # "Unauthorized: /api/auth/refresh": a reason and a path, never what was sent.
        assert message.endswith(record.request.path), message
        assert "{" not in message
        assert "password" not in message.replace("/password", "")
        assert "refresh" not in message.replace("/refresh", "")


def test_a_refused_password_change_does_not_echo_the_passwords_typed(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)
    sign_in(laptop, PASSWORD)

    page = laptop.post(
        "/settings/security/password/", change_form(WRONG_PASSWORD, REJECTED_PASSWORD)
    )
    fragment = laptop.post(
        "/settings/security/password/",
        change_form(PASSWORD, "short"),
        headers={"HX-Request": "true"},
    )

    assert b"Your current password is not correct." in page.content
    assert WRONG_PASSWORD.encode() not in page.content
    assert REJECTED_PASSWORD.encode() not in page.content
    assert b"at least 12 characters" in fragment.content
    assert PASSWORD.encode() not in fragment.content
    assert b'value="short"' not in fragment.content
