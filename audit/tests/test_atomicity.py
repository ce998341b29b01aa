"""Every audited state change commits with its audit row or not at all: with the audit
table refusing inserts (a PostgreSQL trigger, so the database itself fails), each
revoke, bulk sign-out, password change, policy change, password confirmation (sudo
mode) and sign-in from a new device leaves everything as it was, and the user is
told to try again (503) rather than shown a stack trace.

No test transaction wraps these tests: each request's own transaction is the real,
outermost one, as in production."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client

from accounts.models import Account
from audit.models import AuditEvent, LoginEvent
from conftest import PASSWORD, api_login, bearer, browser_for
from sessions.models import Session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def fail_audit_writes():
    """Call it to make every insert into the audit table fail from then on."""

    def install() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION refuse_audit_rows() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit trail unavailable'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_audit_rows BEFORE INSERT ON {AuditEvent._meta.db_table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit_rows()"
            )

    yield install
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS refuse_audit_rows ON {AuditEvent._meta.db_table}")
        cursor.execute("DROP FUNCTION IF EXISTS refuse_audit_rows()")


def assert_told_to_retry_json(response) -> None:
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert "Retry-After" in response


def assert_told_to_retry_page(response) -> None:
    assert response.status_code == 503
    page = response.content.decode()
    assert 'class="site-header"' in page
    assert "Traceback" not in page


def page_client(user) -> Client:
    """A browser signed in as ``user`` that gets the error page a person would see,
    not the exception."""
    browser = browser_for(user)
    browser.raise_request_exception = False
    return browser


def live_ids(user) -> set:
    return set(
        Session.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True)
    )


@pytest.fixture
def alice_elsewhere(alice):
    """alice's API sessions on two other devices."""
    return [api_login(alice)["session"]["id"] for _ in range(2)]


def test_a_revoke_through_the_api_whose_audit_row_fails_leaves_the_session_live(
    alice, alice_elsewhere, fail_audit_writes
):
    api = bearer(api_login(alice)["access"])
    before = live_ids(alice)
    audited = AuditEvent.objects.count()
    fail_audit_writes()

    assert_told_to_retry_json(api.delete(f"/api/auth/sessions/{alice_elsewhere[0]}"))

    assert live_ids(alice) == before
    assert AuditEvent.objects.count() == audited


def test_a_revoke_on_the_page_whose_audit_row_fails_leaves_the_session_live(
    alice, alice_elsewhere, fail_audit_writes
):
    browser = page_client(alice)
    before = live_ids(alice)
    fail_audit_writes()

    response = browser.post(f"/settings/security/sessions/{alice_elsewhere[0]}/revoke/")

    assert_told_to_retry_page(response)
    assert live_ids(alice) == before


def test_revoking_the_others_through_the_api_is_all_or_nothing(
    alice, alice_elsewhere, fail_audit_writes
):
    api = bearer(api_login(alice)["access"])
    before = live_ids(alice)
    fail_audit_writes()

    assert_told_to_retry_json(api.post("/api/auth/sessions/revoke-others"))

    assert live_ids(alice) == before


def test_revoking_the_others_on_the_page_is_all_or_nothing(
    alice, alice_elsewhere, fail_audit_writes
):
    browser = page_client(alice)
    before = live_ids(alice)
    fail_audit_writes()

    assert_told_to_retry_page(browser.post("/settings/security/sessions/revoke-others/"))

    assert live_ids(alice) == before


def test_an_owner_bulk_sign_out_whose_audit_row_fails_signs_nobody_out(
    alice, bob, alice_elsewhere, fail_audit_writes
):
    api_login(bob)
    owner_api = bearer(api_login(alice)["access"])
    owner_page = page_client(alice)
    live = set(Session.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    fail_audit_writes()

    assert_told_to_retry_json(
        owner_api.post(
            "/api/accounts/me/security/revoke-sessions",
            {"scope": "all"},
            content_type="application/json",
        )
    )
    assert_told_to_retry_page(
        owner_page.post("/account/security/revoke-sessions/", {"scope": "others"})
    )

    assert set(Session.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True)) == (
        live
    )


def test_a_password_change_whose_audit_row_fails_keeps_the_old_password_and_sessions(
    alice, alice_elsewhere, fail_audit_writes
):
    api = bearer(api_login(alice)["access"])
    browser = page_client(alice)
    before = live_ids(alice)
    fail_audit_writes()

    assert_told_to_retry_json(
        api.put(
            "/api/auth/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            content_type="application/json",
        )
    )
    assert_told_to_retry_page(
        browser.post(
            "/settings/security/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
    )

    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert live_ids(alice) == before


def test_a_policy_change_whose_audit_row_fails_keeps_the_old_policy(
    alice, alice_elsewhere, fail_audit_writes
):
    owner_api = bearer(api_login(alice)["access"])
    owner_page = page_client(alice)
    before = live_ids(alice)
    fail_audit_writes()

    assert_told_to_retry_json(
        owner_api.patch(
            "/api/accounts/me/security",
            {"idle_minutes": 15, "absolute_minutes": 480, "apply_now": True},
            content_type="application/json",
        )
    )
    assert_told_to_retry_page(
        owner_page.post(
            "/account/security/",
            {"preset": "strict", "idle_minutes": "", "absolute_minutes": ""},
        )
    )

    account = Account.objects.get(pk=alice.account_id)
    assert (account.session_idle_minutes, account.session_absolute_minutes) == (None, None)
    assert live_ids(alice) == before
    # Not applied to the signed-in sessions either: they keep the default limits.
    limits = Session.objects.filter(user=alice).values_list("idle_timeout", flat=True)
    assert set(limits) == {timedelta(minutes=60)}


def test_a_password_confirmation_whose_audit_row_fails_keeps_the_session_as_it_was(
    alice, bob, fail_audit_writes
):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        owner = page_client(alice)
        api_login(bob)
        live = set(Session.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        key_hashes = set(Session.objects.values_list("key_hash", flat=True))
        clock.shift(timedelta(minutes=20))  # past REAUTH_MINUTES: the password is asked
        fail_audit_writes()

        assert_told_to_retry_page(
            owner.post(
                "/account/security/revoke-sessions/",
                {"scope": "others", "reauth_password": PASSWORD},
            )
        )

    # Nobody signed out, and the browser's key not rotated, which would have signed
    # it out (the new cookie never reached it) with no audit row saying why.
    assert set(Session.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True)) == (
        live
    )
    assert set(Session.objects.values_list("key_hash", flat=True)) == key_hashes


def test_a_sign_in_from_a_new_device_whose_audit_row_fails_starts_no_session(
    alice, fail_audit_writes
):
    sessions = Session.objects.count()
    fail_audit_writes()

    assert_told_to_retry_json(
        Client().post(
            "/api/auth/login",
            {"username": "alice", "password": PASSWORD},
            content_type="application/json",
        )
    )
    assert_told_to_retry_page(
        Client(raise_request_exception=False).post(
            "/login/", {"username": "alice", "password": PASSWORD}
        )
    )

    assert Session.objects.count() == sessions
    # No successful sign-in on record either: the next one from these devices is
    # still new, so the "New sign-in" alert the failed write never sent goes out then.
    assert not LoginEvent.objects.filter(user=alice, success=True).exists()
