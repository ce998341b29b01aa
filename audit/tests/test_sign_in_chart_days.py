"""The sign-in chart keeps the counts of the days that have ended and counts only the
others; its numbers stay those of the recorded attempts as sign-ins happen, days pass
and old attempts are purged."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.chart import daily_sign_ins
from audit.models import LoginEvent
from audit.tests.test_sign_in_chart import NOW, attempt, counts_by_day, sign_in
from conftest import browser_for, free_port, hung_redis_server

pytestmark = pytest.mark.django_db

# The end of NOW's day, 30 March.
MIDNIGHT = datetime(2026, 3, 31, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def redis_cache(port: int) -> dict:
    """The charts' cache as configured with REDIS_URL, at ``port`` on this host."""
    return {
        "BACKEND": "securityportal.redis_cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/12",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


@pytest.fixture
def hung_redis(settings):
    """The charts' cache on a Redis that takes connections and never answers. Yields
    the connections it took: one for each time a chart waited on it."""
    with hung_redis_server() as (hung_cache, taken):
        settings.CACHES = {**settings.CACHES, "charts": hung_cache}
        yield taken


def recorded(chart, **owner) -> dict[date, tuple[int, int]]:
    """The attempts of ``owner`` in the table, per UTC day of the chart's days."""
    counts: dict[date, tuple[int, int]] = {}
    for event in LoginEvent.objects.filter(**owner):
        day = event.created_at.astimezone(UTC).date()
        if chart.first_day <= day <= chart.last_day:
            succeeded, failed = counts.get(day, (0, 0))
            counts[day] = (succeeded + event.success, failed + (not event.success))
    return counts


def test_a_sign_in_today_shows_at_once_while_the_earlier_days_are_kept(
    alice, django_assert_num_queries
):
    attempt(alice, at=NOW - timedelta(days=3), success=False)
    daily_sign_ins(user=alice, now=NOW)

    sign_in("alice")
    with django_assert_num_queries(1):
        chart = daily_sign_ins(user=alice, now=NOW)

    assert counts_by_day(chart) == {date(2026, 3, 27): (0, 1), date(2026, 3, 30): (1, 0)}
    assert counts_by_day(chart) == recorded(chart, user=alice)


def test_the_owner_page_shows_a_sign_in_made_since_it_was_last_seen(alice, bob):
    attempt(bob, at=NOW - timedelta(days=1), success=False)
    owner = browser_for(alice)
    assert "1 successful and 1 failed sign-in attempts" in owner.get("/account/security/").text

    sign_in("bob")

    assert "2 successful and 1 failed sign-in attempts" in owner.get("/account/security/").text


def test_as_days_pass_every_day_keeps_exactly_its_sign_ins(clock, alice, acme):
    # 32 days, each with sign-ins before and after the charts are looked at: the window
    # moves past its first day, and each day is read from the table, then kept.
    for offset in range(32):
        day = NOW + timedelta(days=offset)
        clock.move_to(day.replace(hour=9))
        attempt(alice, at=timezone.now(), success=False)
        daily_sign_ins(user=alice, now=timezone.now())
        clock.move_to(day.replace(hour=23, minute=59))
        attempt(alice, at=timezone.now())
        daily_sign_ins(account=acme, now=timezone.now())
        clock.move_to(day.replace(hour=0) + timedelta(days=1, minutes=1))

        mine = daily_sign_ins(user=alice, now=timezone.now())
        accounts = daily_sign_ins(account=acme, now=timezone.now())

        assert counts_by_day(mine) == recorded(mine, user=alice)
        assert counts_by_day(accounts) == recorded(accounts, account=acme)
    assert set(counts_by_day(mine).values()) == {(1, 1)}
    assert len(counts_by_day(mine)) == 29


def test_an_attempt_stamped_before_midnight_and_saved_just_after_still_counts(clock, alice):
    clock.move_to(MIDNIGHT + timedelta(minutes=1))
    daily_sign_ins(user=alice, now=timezone.now())
    # A sign-in that began a moment before midnight, its row written a moment after.
    attempt(alice, at=MIDNIGHT - timedelta(seconds=1))

    clock.move_to(MIDNIGHT + timedelta(minutes=10))
    chart = daily_sign_ins(user=alice, now=timezone.now())

    assert counts_by_day(chart) == {date(2026, 3, 30): (1, 0)}


def test_kept_days_are_each_charts_own(alice, bob, carol, acme):
    attempt(alice, at=NOW - timedelta(days=1))
    attempt(bob, at=NOW - timedelta(days=1), success=False)
    attempt(carol, at=NOW - timedelta(days=2))

    # Counted from the table, then from the kept days.
    for _ in range(2):
        mine = daily_sign_ins(user=alice, now=NOW)
        accounts = daily_sign_ins(account=acme, now=NOW)
        others = daily_sign_ins(account=carol.account, now=NOW)

        assert counts_by_day(mine) == {date(2026, 3, 29): (1, 0)}
        assert counts_by_day(accounts) == {date(2026, 3, 29): (1, 1)}
        assert counts_by_day(others) == {date(2026, 3, 28): (1, 0)}


def test_a_purge_reaching_into_the_last_30_days_shows_on_the_charts(alice, bob, acme):
    attempt(alice, at=NOW - timedelta(days=5))
    attempt(bob, at=NOW - timedelta(days=1), success=False)
    attempt(alice, at=NOW)
    daily_sign_ins(account=acme, now=NOW)
    daily_sign_ins(user=alice, now=NOW)

    call_command("purge_audit", "--older-than", "2d", stdout=StringIO())
    accounts = daily_sign_ins(account=acme, now=NOW)
    mine = daily_sign_ins(user=alice, now=NOW)

    assert counts_by_day(accounts) == {date(2026, 3, 29): (0, 1), date(2026, 3, 30): (1, 0)}
    assert counts_by_day(accounts) == recorded(accounts, account=acme)
    assert counts_by_day(mine) == {date(2026, 3, 30): (1, 0)}


def test_a_purge_the_charts_could_not_be_told_of_fails_and_is_made_good_by_running_it_again(
    settings, alice
):
    attempt(alice, at=NOW - timedelta(days=5))
    attempt(alice, at=NOW)
    daily_sign_ins(user=alice, now=NOW)
    running = settings.CACHES
    settings.CACHES = {**running, "charts": redis_cache(free_port())}

    with pytest.raises(CommandError, match="Run the purge again once Redis is reachable"):
        call_command("purge_audit", "--older-than", "2d", stdout=StringIO())
    assert LoginEvent.objects.count() == 1

    settings.CACHES = running
    stale = daily_sign_ins(user=alice, now=NOW)
    # Deletes nothing more, and tells the charts.
    call_command("purge_audit", "--older-than", "2d", stdout=StringIO())
    fresh = daily_sign_ins(user=alice, now=NOW)

    assert counts_by_day(stale) == {date(2026, 3, 25): (1, 0), date(2026, 3, 30): (1, 0)}
    assert counts_by_day(fresh) == {date(2026, 3, 30): (1, 0)}


def test_kept_counts_last_two_days_from_the_view_that_kept_them(clock, alice):
    attempt(alice, at=NOW - timedelta(days=5))
    daily_sign_ins(user=alice, now=NOW)
    # Back-dated, as only a script writes: seen only by a chart that counts 25 March
    # afresh, not by one that reads the kept count.
    attempt(alice, at=NOW - timedelta(days=5), success=False)

    seen_daily = []
    for offset in range(1, 4):
        clock.move_to(NOW + timedelta(days=offset))
        seen_daily.append(daily_sign_ins(user=alice, now=timezone.now()))
    clock.move_to(NOW + timedelta(days=5, minutes=1))
    after_two_days = daily_sign_ins(user=alice, now=timezone.now())

    assert [counts_by_day(chart)[date(2026, 3, 25)] for chart in seen_daily] == [(1, 0)] * 3
    assert counts_by_day(after_two_days)[date(2026, 3, 25)] == (1, 1)


def test_a_hung_cache_is_waited_on_by_one_view_not_by_every_one(
    hung_redis, alice, django_assert_num_queries
):
    attempt(alice, at=NOW - timedelta(days=2))

    for _ in range(3):
        with django_assert_num_queries(1):
            chart = daily_sign_ins(user=alice, now=NOW)
        assert counts_by_day(chart) == {date(2026, 3, 28): (1, 0)}

    assert len(hung_redis) == 1


def test_with_the_cache_unreachable_the_chart_is_counted_from_the_table(
    settings, alice, django_assert_num_queries
):
    settings.CACHES = {**settings.CACHES, "charts": redis_cache(free_port())}
    attempt(alice, at=NOW - timedelta(days=2))
    attempt(alice, at=NOW, success=False)

    for _ in range(2):
        with django_assert_num_queries(1):
            chart = daily_sign_ins(user=alice, now=NOW)

        assert counts_by_day(chart) == {date(2026, 3, 28): (1, 0), date(2026, 3, 30): (0, 1)}
