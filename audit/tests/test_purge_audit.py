"""purge_audit: audit events and sign-in records older than --older-than are deleted, in
batches; newer ones stay; a badly written age is refused with the way to write it."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent, LoginEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def audit_event(user, created_at: datetime) -> AuditEvent:
    return AuditEvent.objects.create(
        action="session.revoked", user=user, actor=user, created_at=created_at
    )


def login_event(username: str, created_at: datetime) -> LoginEvent:
    return LoginEvent.objects.create(
        username=username,
        channel="browser",
        success=False,
        failure_reason="bad_credentials",
        created_at=created_at,
    )


def purge_audit(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_audit", *args, stdout=out)
    return out.getvalue()


def test_rows_older_than_the_age_are_deleted_from_both_tables_and_newer_ones_kept(alice):
    old_audit = audit_event(alice, NOW - timedelta(days=366))
    recent_audit = audit_event(alice, NOW - timedelta(days=364))
    old_login = login_event("alice", NOW - timedelta(days=400))
    recent_login = login_event("mallory", NOW - timedelta(days=1))

    output = purge_audit("--older-than", "365d")

    assert output == (
        "Deleted 1 audit events older than 365 days.\n"
        "Deleted 1 sign-in events older than 365 days.\n"
    )
    assert list(AuditEvent.objects.all()) == [recent_audit]
    assert list(LoginEvent.objects.all()) == [recent_login]
    assert not AuditEvent.objects.filter(pk=old_audit.pk).exists()
    assert not LoginEvent.objects.filter(pk=old_login.pk).exists()


def test_the_age_defaults_to_365_days(alice):
    audit_event(alice, NOW - timedelta(days=366))
    kept = login_event("alice", NOW - timedelta(days=300))

    output = purge_audit()

    assert output == (
        "Deleted 1 audit events older than 365 days.\n"
        "Deleted 0 sign-in events older than 365 days.\n"
    )
    assert not AuditEvent.objects.exists()
    assert list(LoginEvent.objects.all()) == [kept]


def test_the_age_may_be_given_in_hours():
    login_event("alice", NOW - timedelta(hours=49))
    kept = login_event("alice", NOW - timedelta(hours=47))

    output = purge_audit("--older-than=48h")

    assert output.endswith("Deleted 1 sign-in events older than 48 hours.\n")
    assert list(LoginEvent.objects.all()) == [kept]


def test_batches_delete_every_row_when_there_are_more_than_one_batch_holds(alice):
    for day in range(5):
        audit_event(alice, NOW - timedelta(days=400 + day))
        login_event("alice", NOW - timedelta(days=400 + day))
    kept = audit_event(alice, NOW)

    with CaptureQueriesContext(connection) as queries:
        output = purge_audit("--batch-size=2")

    assert output == (
        "Deleted 5 audit events older than 365 days.\n"
        "Deleted 5 sign-in events older than 365 days.\n"
    )
    audit_deletes = [
        query for query in queries if query["sql"].startswith('DELETE FROM "audit_auditevent"')
    ]
    assert len(audit_deletes) == 3
    assert list(AuditEvent.objects.all()) == [kept]
    assert not LoginEvent.objects.exists()


@pytest.mark.parametrize("age", ["365", "a year", "365 days", "1.5d", "d", ""])
def test_a_malformed_age_is_refused_with_the_way_to_write_it(alice, age):
    old = audit_event(alice, NOW - timedelta(days=400))

    with pytest.raises(CommandError, match=r"Write --older-than as a number of days, like 365d\."):
        purge_audit(f"--older-than={age}")

    assert list(AuditEvent.objects.all()) == [old]


@pytest.mark.parametrize("age", ["0d", "0h", "-5d"])
def test_an_age_of_zero_or_less_is_refused(alice, age):
    recent = audit_event(alice, NOW - timedelta(minutes=1))

    with pytest.raises(CommandError, match="must be more than zero"):
        purge_audit(f"--older-than={age}")

    assert list(AuditEvent.objects.all()) == [recent]


def test_an_age_reaching_back_before_the_calendar_is_refused():
    with pytest.raises(CommandError, match="reaches back before the year 1"):
        purge_audit("--older-than=99999999999d")
