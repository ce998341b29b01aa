"""The retention purge (SPEC §4 rule 5): sessions that ended more than
SESSION_RETENTION_DAYS ago are deleted, in batches, with their refresh tokens; live
and recently ended ones stay. Time moves only through time_machine."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import LoginEvent
from conftest import api_login, browser_for, run_python
from securityportal.client import ClientInfo
from sessions.lifecycle import open_session
from sessions.models import RefreshToken, RevokedReason, Session

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RETENTION = timedelta(days=30)
SECURITY_PAGE = "/settings/security/"


@pytest.fixture(autouse=True)
def short_limits(settings):
    # Limits are snapshotted at sign-in, so they are set before anyone signs in.
    settings.SESSION_IDLE_MINUTES_DEFAULT = 60
    settings.SESSION_ABSOLUTE_MINUTES_DEFAULT = 180
    settings.SESSION_RETENTION_DAYS = 30


def purge_sessions(*args: str) -> str:
    out = StringIO()
    call_command("purge_sessions", *args, stdout=out)
    return out.getvalue()


def revoke_all(user) -> None:
    for row in Session.objects.for_user(user):
        row.revoke(reason=RevokedReason.USER, actor=user)


def ended_session(user) -> Session:
    row = open_session(
        user=user,
        kind=Session.Kind.API,
        client=ClientInfo(ip=None, user_agent=""),
        now=timezone.now(),
    )
    row.end(reason=RevokedReason.USER)
    return row


def session_deletes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('DELETE FROM "user_sessions_session"')
    ]


def test_sessions_ended_longer_ago_than_retention_are_deleted_with_their_refresh_tokens(
    alice, bob
):
    with time_machine.travel(START, tick=False) as traveller:
        api_login(alice)
        browser_for(bob)
        traveller.shift(timedelta(minutes=10))
        revoke_all(alice)
        revoke_all(bob)
        assert RefreshToken.objects.filter(session__user=alice).exists()
        traveller.shift(RETENTION + timedelta(minutes=1))

        output = purge_sessions()

    assert output == "Deleted 2 ended sessions older than 30 days.\n"
    assert not Session.objects.exists()
    assert not RefreshToken.objects.exists()


def test_sessions_ended_within_retention_are_kept(alice, bob):
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        traveller.shift(timedelta(minutes=10))
        revoke_all(alice)
        traveller.shift(timedelta(days=2))
        browser_for(bob)
        traveller.shift(timedelta(minutes=10))
        revoke_all(bob)
        traveller.move_to(START + timedelta(minutes=10) + RETENTION + timedelta(minutes=1))

        output = purge_sessions()

    assert output == "Deleted 1 ended sessions older than 30 days.\n"
    assert list(Session.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_live_session_is_kept_however_long_ago_it_started(alice, settings):
    settings.SESSION_IDLE_MINUTES_DEFAULT = 43200
    settings.SESSION_ABSOLUTE_MINUTES_DEFAULT = 129600
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(days=25))
        assert browser.get(SECURITY_PAGE).status_code == 200
        traveller.shift(timedelta(days=25))

        output = purge_sessions()

        assert output == "Deleted 0 ended sessions older than 30 days.\n"
        assert browser.get(SECURITY_PAGE).status_code == 200
    row = Session.objects.get(user=alice)
    assert row.revoked_at is None


def test_a_session_left_idle_is_deleted_once_its_idle_deadline_is_past_retention(alice):
    idle_deadline = START + timedelta(minutes=60)
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        traveller.move_to(idle_deadline + RETENTION - timedelta(minutes=1))
        assert purge_sessions() == "Deleted 0 ended sessions older than 30 days.\n"
        traveller.move_to(idle_deadline + RETENTION + timedelta(minutes=1))

        output = purge_sessions()

    assert output == "Deleted 1 ended sessions older than 30 days.\n"
    assert not Session.objects.exists()


def test_a_session_that_reached_its_maximum_age_unseen_is_deleted_once_past_retention(alice):
    absolute_expiry = START + timedelta(minutes=180)
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        # Active until just before its absolute expiry, so its idle deadline
        # (50 minutes after that) is not what ends it.
        for _ in range(17):
            traveller.shift(timedelta(minutes=10))
            assert browser.get(SECURITY_PAGE).status_code == 200
        traveller.move_to(absolute_expiry + RETENTION + timedelta(minutes=1))

        output = purge_sessions()

    assert output == "Deleted 1 ended sessions older than 30 days.\n"
    assert not Session.objects.exists()


def test_a_lapsed_session_presented_later_is_kept_for_retention_from_when_it_was_ended(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser = browser_for(alice)
        traveller.shift(timedelta(days=10))
        # Presented long after its limits: ended now, not when it lapsed.
        assert browser.get(SECURITY_PAGE).status_code == 302
        traveller.shift(RETENTION - timedelta(days=1))

        output = purge_sessions()

    assert output == "Deleted 0 ended sessions older than 30 days.\n"
    row = Session.objects.get(user=alice)
    assert row.revoked_at == START + timedelta(days=10)


def test_the_retention_period_comes_from_the_setting(alice, settings):
    settings.SESSION_RETENTION_DAYS = 7
    with time_machine.travel(START, tick=False) as traveller:
        ended_session(alice)
        traveller.shift(timedelta(days=7, minutes=1))

        output = purge_sessions()

    assert output == "Deleted 1 ended sessions older than 7 days.\n"
    assert not Session.objects.exists()


def test_batches_delete_every_row_when_there_are_more_than_one_batch_holds(alice, bob):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            ended_session(alice)
        traveller.shift(RETENTION + timedelta(days=1))
        ended_session(bob)

        with CaptureQueriesContext(connection) as queries:
            output = purge_sessions("--batch-size=2")

    assert output == "Deleted 5 ended sessions older than 30 days.\n"
    assert len(session_deletes(queries)) == 3
    assert list(Session.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_sign_in_record_outlives_its_purged_session(alice):
    with time_machine.travel(START, tick=False) as traveller:
        row = ended_session(alice)
        event = LoginEvent.objects.create(
            user=alice,
            username="alice",
            channel="api",
            success=True,
            session=row,
            created_at=START,
        )
        traveller.shift(RETENTION + timedelta(days=1))

        purge_sessions()

    event.refresh_from_db()
    assert event.session_id is None
    assert not Session.objects.exists()


def test_djangos_clearsessions_command_purges_through_the_store(alice, bob):
    with time_machine.travel(START, tick=False) as traveller:
        ended_session(alice)
        traveller.shift(RETENTION + timedelta(days=1))
        browser_for(bob)

        call_command("clearsessions")

    assert list(Session.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_retention_below_one_day_stops_start_up():
    result = run_python("manage.py", "check", SESSION_RETENTION_DAYS="0")

    assert result.returncode != 0
    assert "SESSION_RETENTION_DAYS=0 is below its minimum of 1." in result.stderr


def test_a_retention_of_more_than_a_hundred_years_stops_start_up():
    result = run_python("manage.py", "check", SESSION_RETENTION_DAYS="99999999999")

    assert result.returncode != 0
    assert "SESSION_RETENTION_DAYS=99999999999 is above its maximum of 36500." in result.stderr


@pytest.mark.parametrize("size", ["0", "-5", "abc", "100001", str(2**63)])
def test_a_batch_size_out_of_range_is_refused_naming_the_range(size):
    with pytest.raises(CommandError, match="give a whole number from 1 to 100000"):
        call_command("purge_sessions", "--batch-size", size)
