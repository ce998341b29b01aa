"""POST /api/auth/refresh: rotation, the reuse grace window, replay detection (SPEC §6)."""

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from conftest import PYTHON_CLIENT, api_login, bearer
from sessions.models import RefreshToken, RevokedReason, Session
from sessions.tokens import new_refresh_token, successor_of


def refresh(token: object) -> object:
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def assert_refused(response, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]


@pytest.fixture
def frozen(time_machine):
    """Time stands still unless a test moves it."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.fixture
def alice_api(alice, frozen) -> dict:
    return api_login(alice)


def test_a_refresh_returns_a_new_pair_and_the_old_access_token_still_works(alice_api):
    response = refresh(alice_api["refresh"])

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh", "access_expires_at", "session"}
    assert pair["access"] != alice_api["access"]
    assert pair["refresh"] != alice_api["refresh"]
    assert pair["session"]["id"] == alice_api["session"]["id"]
    assert bearer(pair["access"]).get("/api/auth/me").status_code == 200
    # Access tokens live out their five minutes while the session is live.
    assert bearer(alice_api["access"]).get("/api/auth/me").status_code == 200


def test_the_successor_refresh_token_can_itself_be_rotated(alice_api, frozen):
    second = refresh(alice_api["refresh"]).json()
    frozen.shift(timedelta(minutes=1))

    response = refresh(second["refresh"])

    assert response.status_code == 200
    third = response.json()
    assert third["refresh"] not in {alice_api["refresh"], second["refresh"]}
    assert RefreshToken.objects.filter(session_id=alice_api["session"]["id"]).count() == 3


def test_refresh_tokens_carry_a_prefix_secret_scanners_can_find(alice_api):
    pair = refresh(alice_api["refresh"]).json()

    assert alice_api["refresh"].startswith("sprt_")
    assert pair["refresh"].startswith("sprt_")


def test_refresh_tokens_are_stored_only_as_their_sha256(alice_api):
    pair = refresh(alice_api["refresh"]).json()

    rows = RefreshToken.objects.filter(session_id=alice_api["session"]["id"])
    stored = {row.token_hash for row in rows}
    assert stored == {
        hashlib.sha256(alice_api["refresh"].encode()).hexdigest(),
        hashlib.sha256(pair["refresh"].encode()).hexdigest(),
    }
    for row in rows.values():
        assert alice_api["refresh"] not in str(row)
        assert pair["refresh"] not in str(row)


def test_a_refresh_token_presented_again_within_the_grace_window_gets_the_same_successor(
    alice_api, frozen
):
    first = refresh(alice_api["refresh"])
    frozen.shift(timedelta(seconds=9))

    again = refresh(alice_api["refresh"])

    assert first.status_code == again.status_code == 200
    assert again.json()["refresh"] == first.json()["refresh"]
    assert bearer(again.json()["access"]).get("/api/auth/me").status_code == 200
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.revoked_at is None
    assert RefreshToken.objects.filter(session=session).count() == 2
    assert not AuditEvent.objects.filter(action="refresh_token.reuse_detected").exists()


def test_the_grace_window_ends_exactly_grace_seconds_after_the_rotation(alice_api, frozen):
    first = refresh(alice_api["refresh"]).json()["refresh"]
    frozen.shift(timedelta(seconds=10))

    at_the_edge = refresh(alice_api["refresh"])
    frozen.shift(timedelta(microseconds=1))
    past_it = refresh(alice_api["refresh"])

    assert at_the_edge.status_code == 200
    assert at_the_edge.json()["refresh"] == first
    assert_refused(past_it, "token_reused")


def test_the_successor_handed_out_again_within_the_grace_window_keeps_working(alice_api, frozen):
    refresh(alice_api["refresh"])
    frozen.shift(timedelta(seconds=5))
    successor = refresh(alice_api["refresh"]).json()["refresh"]
    frozen.shift(timedelta(seconds=5))

    response = refresh(successor)

    assert response.status_code == 200


def test_a_late_retry_after_the_successor_was_itself_rotated_gets_the_token_the_session_holds(
    alice_api, frozen
):
    # A client refreshes twice in a row; a retry of its first refresh, delayed in the
    # network, arrives last. Handing it the first successor, already used, would give
    # the client a dead token whose next use ends the session as a replay.
    second = refresh(alice_api["refresh"]).json()["refresh"]
    frozen.shift(timedelta(seconds=2))
    third = refresh(second).json()["refresh"]
    frozen.shift(timedelta(seconds=3))

    retry = refresh(alice_api["refresh"])

    assert retry.status_code == 200
    assert retry.json()["refresh"] == third
    frozen.shift(timedelta(seconds=30))
    assert refresh(retry.json()["refresh"]).status_code == 200
    assert Session.objects.get(pk=alice_api["session"]["id"]).revoked_at is None


def test_a_retry_served_after_a_secret_key_rotation_gets_the_same_successor(
    alice_api, frozen, settings
):
    first = refresh(alice_api["refresh"]).json()["refresh"]
    # A rolling deploy rotates DJANGO_SECRET_KEY: the retry reaches a process that
    # signs with the new key and keeps the old one as a fallback.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    frozen.shift(timedelta(seconds=2))

    again = refresh(alice_api["refresh"])

    assert again.status_code == 200
    assert again.json()["refresh"] == first
    frozen.shift(timedelta(seconds=30))
    assert refresh(first).status_code == 200


def test_a_replayed_refresh_token_revokes_the_session(alice_api, alice, frozen):
    assert refresh(alice_api["refresh"]).status_code == 200
    frozen.shift(timedelta(seconds=11))

    response = refresh(alice_api["refresh"])

    assert_refused(response, "token_reused")
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.revoked_at is not None
    assert session.revoked_reason == RevokedReason.REFRESH_REUSE
    event = AuditEvent.objects.get(action="refresh_token.reuse_detected")
    assert event.user == alice
    assert event.account == alice.account
    assert str(session.pk) in event.target
    assert alice_api["refresh"] not in str(event.details)
    assert AuditEvent.objects.filter(
        action="session.revoked", details__reason=RevokedReason.REFRESH_REUSE
    ).exists()


def test_after_a_replay_every_token_of_the_session_is_dead(alice_api, frozen):
    first = refresh(alice_api["refresh"]).json()
    frozen.shift(timedelta(seconds=11))
    refresh(alice_api["refresh"])

    assert_refused(bearer(alice_api["access"]).get("/api/auth/me"), "session_revoked")
    assert_refused(bearer(first["access"]).get("/api/auth/me"), "session_revoked")
    assert_refused(refresh(first["refresh"]), "session_revoked")


def test_a_replay_does_not_touch_the_users_other_sessions(alice_api, alice, frozen):
    other = api_login(alice)
    refresh(alice_api["refresh"])
    frozen.shift(timedelta(seconds=11))

    refresh(alice_api["refresh"])

    assert bearer(other["access"]).get("/api/auth/me").status_code == 200
    assert Session.objects.get(pk=other["session"]["id"]).revoked_at is None


def test_replaying_again_records_the_reuse_only_once(alice_api, frozen):
    refresh(alice_api["refresh"])
    frozen.shift(timedelta(seconds=11))
    refresh(alice_api["refresh"])

    response = refresh(alice_api["refresh"])

    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="refresh_token.reuse_detected").count() == 1


def test_an_unknown_refresh_token_is_refused(db):
    response = refresh("sprt_" + "A" * 43)

    assert_refused(response, "token_invalid")


def test_refresh_fails_once_the_session_is_revoked(alice_api, alice):
    response = bearer(alice_api["access"]).post("/api/auth/logout")
    assert response.status_code == 204

    response = refresh(alice_api["refresh"])

    assert_refused(response, "session_revoked")
    assert RefreshToken.objects.filter(session_id=alice_api["session"]["id"]).count() == 1


def test_refresh_fails_once_the_session_is_idle_expired(alice_api, frozen):
    frozen.shift(timedelta(minutes=61))

    response = refresh(alice_api["refresh"])

    assert_refused(response, "session_expired")
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.revoked_reason == RevokedReason.EXPIRED_IDLE
    assert RefreshToken.objects.filter(session=session).count() == 1


def test_refresh_fails_once_the_session_reaches_its_absolute_expiry(alice, frozen):
    alice.account.session_idle_minutes = 10
    alice.account.session_absolute_minutes = 15
    alice.account.save()
    pair = api_login(alice)
    # Refreshing every few minutes keeps the session from going idle, but cannot
    # keep it alive beyond its absolute limit.
    token = pair["refresh"]
    for minutes in (7, 7):
        frozen.shift(timedelta(minutes=minutes))
        response = refresh(token)
        assert response.status_code == 200
        token = response.json()["refresh"]
    frozen.shift(timedelta(minutes=1))

    response = refresh(token)

    assert_refused(response, "session_expired")
    session = Session.objects.get(pk=pair["session"]["id"])
    assert session.revoked_reason == RevokedReason.EXPIRED_ABSOLUTE


def test_a_refresh_counts_as_activity(alice_api, frozen):
    frozen.shift(timedelta(minutes=2))

    response = refresh(alice_api["refresh"])

    assert response.status_code == 200
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.last_seen_at == timezone.now()


def test_a_refresh_within_a_minute_of_the_last_write_does_not_write_activity(alice_api, frozen):
    signed_in_at = timezone.now()
    frozen.shift(timedelta(seconds=30))

    response = refresh(alice_api["refresh"])

    assert response.status_code == 200
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.last_seen_at == signed_in_at


def test_refreshing_keeps_a_session_from_going_idle(alice_api, frozen):
    token = alice_api["refresh"]
    for _ in range(3):
        frozen.shift(timedelta(minutes=50))
        response = refresh(token)
        assert response.status_code == 200
        token = response.json()["refresh"]

    response = bearer(response.json()["access"]).get("/api/auth/me")

    assert response.status_code == 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_yield_one_successor(alice):
    pair = api_login(alice)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    answers: list = [None] * threads_count

    def present(index: int) -> None:
        try:
            # A crash must show up as a 500 answer, not vanish with its thread.
            client = Client(HTTP_USER_AGENT=PYTHON_CLIENT, raise_request_exception=False)
            barrier.wait(timeout=30)
            answers[index] = client.post(
                "/api/auth/refresh", {"refresh": pair["refresh"]}, content_type="application/json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=present, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [getattr(answer, "status_code", None) for answer in answers] == [200] * threads_count
    assert len({answer.json()["refresh"] for answer in answers}) == 1
    session = Session.objects.get(pk=pair["session"]["id"])
    assert session.revoked_at is None
    assert RefreshToken.objects.filter(session=session).count() == 2
    assert RefreshToken.objects.filter(session=session, rotated_at__isnull=False).count() == 1
    assert not AuditEvent.objects.filter(action="refresh_token.reuse_detected").exists()


class Presenter(threading.Thread):
    """Presents one refresh token over its own database connection, whose backend
    pid it publishes so the test can see when it waits for a lock."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.pid: int | None = None
        self.answer = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            # A crash must show up as a 500 answer, not vanish with its thread.
            client = Client(HTTP_USER_AGENT=PYTHON_CLIENT, raise_request_exception=False)
            self.answer = client.post(
                "/api/auth/refresh", {"refresh": self.token}, content_type="application/json"
            )
        finally:
            connection.close()


def wait_until_settled(presenters: list[Presenter]) -> None:
    """Return once every presenter has answered or waits for a row lock: nothing
    can move until the test lets go of the lock it holds."""
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                [[presenter.pid for presenter in presenters if presenter.pid is not None]],
            )
            waiting = {pid for (pid,) in cursor.fetchall()}
        if all(not p.is_alive() or p.pid in waiting for p in presenters):
            return
        assert time.monotonic() < deadline, "the presenters never settled"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_refreshes_queued_behind_a_replay_are_refused_and_issue_no_successor(alice, frozen):
    first = api_login(alice)
    second = refresh(first["refresh"]).json()
    frozen.shift(timedelta(seconds=11))
    session_id = first["session"]["id"]

    with transaction.atomic():
        # Hold the session row as an in-flight revoke's UPDATE does, so the replay
        # is first in the queue for it and the current token's refreshes queue after.
        Session.objects.select_for_update(no_key=True).get(pk=session_id)
        replay = Presenter(first["refresh"])
        replay.start()
        wait_until_settled([replay])
        assert replay.is_alive(), "the replay did not wait for the session row"
        current = [Presenter(second["refresh"]) for _ in range(6)]
        for presenter in current:
            presenter.start()
        wait_until_settled([replay, *current])
    for presenter in [replay, *current]:
        presenter.join(timeout=60)

    assert_refused(replay.answer, "token_reused")
    answers = [(p.answer.status_code, p.answer.json().get("code")) for p in current]
    assert answers == [(401, "session_revoked")] * len(current)
    session = Session.objects.get(pk=session_id)
    assert session.revoked_reason == RevokedReason.REFRESH_REUSE
    # No successor of the current token was stored for the revoked session.
    assert RefreshToken.objects.filter(session=session).count() == 2
    assert AuditEvent.objects.filter(action="refresh_token.reuse_detected").count() == 1


def test_a_successor_cannot_be_computed_without_the_server_key(settings):
    # A thief holding one refresh token must not be able to compute the next
    # one (and so stay ahead of reuse detection): the successor is keyed.
    token = new_refresh_token()
    successor = successor_of(token)

    settings.SECRET_KEY = "another-secret-key-of-a-different-deployment"

    assert successor_of(token) != successor
    assert successor.startswith("sprt_")
    assert successor != token


def test_two_sessions_rotate_independently(alice, bob):
    alice_tokens, bob_tokens = api_login(alice), api_login(bob)

    alice_next = refresh(alice_tokens["refresh"])
    bob_next = refresh(bob_tokens["refresh"])

    assert alice_next.status_code == bob_next.status_code == 200
    assert alice_next.json()["refresh"] != bob_next.json()["refresh"]
    assert alice_next.json()["session"]["id"] == alice_tokens["session"]["id"]
    assert bob_next.json()["session"]["id"] == bob_tokens["session"]["id"]
