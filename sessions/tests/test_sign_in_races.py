"""A sign-in reads the user, hashes the password for a while (Argon2: tens to hundreds
of milliseconds), then opens its session. What commits in between must still hold
for that session: a password change ends it (or refuses it), a hash upgrade cannot
undo the change, and an owner's "apply now" reaches it. Each test holds a real
sign-in, in a thread of its own, inside the password check while the change
commits, on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import user_logged_in
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, transaction
from django.test import Client

from accounts.models import Account, User
from accounts.owners import update_session_policy
from accounts.passwords import change_password
from audit.models import LoginEvent
from conftest import PASSWORD, PYTHON_CLIENT, once_someone_waits_for_a_row_lock
from sessions.models import Session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a brand new passphrase of hers"
SIGNING_IN = "signing-in"


class SignIn(threading.Thread):
    """One sign-in (browser form or API) in a thread of its own."""

    def __init__(self, *, api: bool) -> None:
        super().__init__(name=SIGNING_IN)
        self.api = api
        self.answer = None
        self.client = Client(HTTP_USER_AGENT=PYTHON_CLIENT, raise_request_exception=False)

    def run(self) -> None:
        credentials = {"username": "alice", "password": PASSWORD}
        try:
            if self.api:
                self.answer = self.client.post(
                    "/api/auth/login", credentials, content_type="application/json"
                )
            else:
                self.answer = self.client.post("/login/", credentials)
        finally:
            connection.close()


class SignInHeldInItsPasswordCheck(SignIn):
    """A sign-in whose password check waits, once it has verified the password,
    until the test lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, api: bool) -> None:
        super().__init__(api=api)
        self.checked = threading.Event()
        self.go_on = threading.Event()
        verify = MD5PasswordHasher.verify

        def held_verify(hasher: MD5PasswordHasher, password: str, encoded: str) -> bool:
            verified = verify(hasher, password, encoded)
            if threading.current_thread().name == SIGNING_IN:
                self.checked.set()
                assert self.go_on.wait(30)
            return verified

        monkeypatch.setattr(MD5PasswordHasher, "verify", held_verify)

    def meanwhile(self, change) -> None:
        """Start the sign-in, run ``change`` while its password check waits, then let
        it finish."""
        self.start()
        assert self.checked.wait(30)
        change()
        self.go_on.set()
        self.join(30)


def change_alices_password() -> None:
    change_password(
        user=User.objects.get(username="alice"), new_password=NEW_PASSWORD, session=None, ip=None
    )


def live_sessions_of(user: User) -> int:
    return Session.objects.filter(user=user, revoked_at__isnull=True).count()


def sign_in_trail(user: User) -> list[tuple[bool, str, str]]:
    return list(
        LoginEvent.objects.filter(user=user).values_list("success", "failure_reason", "channel")
    )


def test_an_api_sign_in_with_the_old_password_in_flight_is_refused_after_a_change(
    alice, monkeypatch
):
    sign_in = SignInHeldInItsPasswordCheck(monkeypatch, api=True)

    sign_in.meanwhile(change_alices_password)

    assert sign_in.answer.status_code == 401
    assert sign_in.answer.json()["code"] == "bad_credentials"
    assert live_sessions_of(alice) == 0
    # The attempt is in the trail, refused as the wrong password it now is.
    assert sign_in_trail(alice) == [(False, "bad_credentials", "api")]


def test_a_browser_sign_in_with_the_old_password_in_flight_is_refused_after_a_change(
    alice, monkeypatch
):
    sign_in = SignInHeldInItsPasswordCheck(monkeypatch, api=False)

    sign_in.meanwhile(change_alices_password)

    assert sign_in.answer.status_code == 200
    assert "The username or password is incorrect." in sign_in.answer.content.decode()
    assert live_sessions_of(alice) == 0
    assert sign_in.client.get("/settings/security/").status_code == 302
    assert sign_in_trail(alice) == [(False, "bad_credentials", "browser")]


@pytest.mark.parametrize("api", [True, False])
def test_a_sign_in_in_flight_when_its_user_is_deactivated_opens_no_session(
    alice, monkeypatch, api
):
    sign_in = SignInHeldInItsPasswordCheck(monkeypatch, api=api)

    def deactivate_alice() -> None:
        user = User.objects.get(username="alice")
        user.is_active = False
        user.save()

    sign_in.meanwhile(deactivate_alice)

    assert sign_in.answer.status_code == (401 if api else 200)
    assert Session.objects.filter(user=alice).count() == 0
    assert sign_in_trail(alice) == [(False, "bad_credentials", "api" if api else "browser")]


def test_a_hash_upgrade_in_flight_does_not_undo_a_password_change(alice, monkeypatch, settings):
    # alice's hash is MD5's; with PBKDF2 preferred, her next sign-in rewrites it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    sign_in = SignInHeldInItsPasswordCheck(monkeypatch, api=True)

    sign_in.meanwhile(change_alices_password)

    stored = User.objects.get(pk=alice.pk)
    assert stored.check_password(NEW_PASSWORD)
    assert not stored.check_password(PASSWORD)
    assert sign_in.answer.status_code == 401


def test_a_policy_applied_now_reaches_a_sign_in_in_flight(alice, acme, monkeypatch):
    sign_in = SignInHeldInItsPasswordCheck(monkeypatch, api=True)

    sign_in.meanwhile(
        lambda: update_session_policy(
            account=Account.objects.get(pk=acme.pk),
            idle_minutes=5,
            absolute_minutes=60,
            actor=alice,
            ip=None,
            apply_now=True,
        )
    )

    assert sign_in.answer.status_code == 200
    session = Session.objects.get(pk=sign_in.answer.json()["session"]["id"])
    assert session.idle_timeout == timedelta(minutes=5)
    assert session.expire_date - session.created_at == timedelta(minutes=60)


def test_a_user_deactivated_while_their_sign_in_commits_keeps_no_session(alice):
    # The sign-in has opened its session (and holds alice's row) but not committed.
    opened, go_on = threading.Event(), threading.Event()

    def held_at_commit(sender, user, **kwargs) -> None:
        if threading.current_thread().name == SIGNING_IN:
            opened.set()
            assert go_on.wait(30)

    def deactivate_alice() -> None:
        try:
            with transaction.atomic():  # as the admin saves
                user = User.objects.get(username="alice")
                user.is_active = False
                user.save()
        finally:
            connection.close()

    user_logged_in.connect(held_at_commit, dispatch_uid="held_at_commit")
    try:
        sign_in = SignIn(api=True)
        sign_in.start()
        assert opened.wait(30)
        deactivation = threading.Thread(target=deactivate_alice)
        deactivation.start()
        # Let the sign-in commit only once the deactivation waits on alice's row.
        once_someone_waits_for_a_row_lock(go_on)
        sign_in.join(30)
        deactivation.join(30)
    finally:
        user_logged_in.disconnect(dispatch_uid="held_at_commit")

    assert sign_in.answer.status_code == 200
    assert live_sessions_of(alice) == 0
    assert not User.objects.get(pk=alice.pk).is_active
