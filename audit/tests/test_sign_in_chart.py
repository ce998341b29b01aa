"""The sign-in chart: successful and failed attempts per UTC day over the last 30 days,
a user's own on /settings/security/ and the account's on /account/security/."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from audit.chart import daily_sign_ins, forget_settled_days
from audit.models import LoginEvent
from conftest import CHROME_MAC, PASSWORD, browser_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
# The first of the 30 days that end with NOW's: 1 March, from midnight UTC.
FIRST_DAY = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def attempt(user, *, at: datetime, success: bool = True, **fields) -> LoginEvent:
    return LoginEvent.objects.create(
        user=user,
        account_id=user.account_id,
        username=user.username,
        channel="browser",
        success=success,
        failure_reason="" if success else "bad_credentials",
        created_at=at,
        **fields,
    )


def sign_in(username: str, password: str = PASSWORD) -> None:
    Client(HTTP_USER_AGENT=CHROME_MAC).post(
        "/login/", {"username": username, "password": password}
    )


def chart_totals(page: str) -> str:
    return re.search(r'<th scope="row">Total</th>.*?</tr>', page)[0]


def counts_by_day(chart) -> dict[date, tuple[int, int]]:
    return {day.date: (day.succeeded, day.failed) for day in chart.days if day.total}


def test_each_day_counts_exactly_the_sign_ins_recorded_that_day(clock, alice):
    for days_ago, successes, failures in [(29, 1, 0), (12, 2, 3), (0, 1, 2)]:
        clock.move_to(NOW - timedelta(days=days_ago))
        for _ in range(failures):
            sign_in("alice", "not the password")
        for _ in range(successes):
            sign_in("alice")
    clock.move_to(NOW)

    chart = daily_sign_ins(user=alice, now=NOW)

    assert len(chart.days) == 30
    for day in chart.days:
        recorded = LoginEvent.objects.filter(user=alice, created_at__date=day.date)
        assert day.succeeded == recorded.filter(success=True).count()
        assert day.failed == recorded.filter(success=False).count()
    assert counts_by_day(chart) == {
        date(2026, 3, 1): (1, 0),
        date(2026, 3, 18): (2, 3),
        date(2026, 3, 30): (1, 2),
    }
    assert (chart.succeeded, chart.failed) == (4, 5)


def test_the_thirty_days_run_from_midnight_utc_29_days_ago_to_the_end_of_today(alice):
    attempt(alice, at=FIRST_DAY - timedelta(microseconds=1))
    attempt(alice, at=FIRST_DAY)
    attempt(alice, at=FIRST_DAY + timedelta(days=30) - timedelta(microseconds=1), success=False)
    attempt(alice, at=FIRST_DAY + timedelta(days=30))

    chart = daily_sign_ins(user=alice, now=NOW)

    assert (chart.first_day, chart.last_day) == (date(2026, 3, 1), date(2026, 3, 30))
    assert counts_by_day(chart) == {date(2026, 3, 1): (1, 0), date(2026, 3, 30): (0, 1)}


def test_days_are_utc_days_whatever_the_offset_of_now(alice):
    # 08:30 on 30 March in Tokyo, still the 29th in UTC.
    attempt(alice, at=datetime(2026, 3, 29, 23, 30, tzinfo=UTC))
    in_tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))

    chart = daily_sign_ins(user=alice, now=in_tokyo)

    assert chart.last_day == date(2026, 3, 30)
    assert counts_by_day(chart) == {date(2026, 3, 29): (1, 0)}


def test_a_users_chart_leaves_out_everyone_else_and_unknown_names(alice, bob, carol):
    attempt(alice, at=NOW)
    attempt(bob, at=NOW, success=False)
    attempt(carol, at=NOW)
    sign_in("nobody-by-this-name", "a guess")

    mine = daily_sign_ins(user=alice, now=NOW)

    assert (mine.succeeded, mine.failed) == (1, 0)


def test_an_accounts_chart_counts_its_own_people_and_no_other_tenants(alice, bob, carol, acme):
    attempt(alice, at=NOW)
    attempt(bob, at=NOW - timedelta(days=3), success=False)
    attempt(carol, at=NOW)
    attempt(carol, at=NOW, success=False)
    sign_in("nobody-by-this-name", "a guess")

    acme_chart = daily_sign_ins(account=acme, now=NOW)

    assert counts_by_day(acme_chart) == {date(2026, 3, 30): (1, 0), date(2026, 3, 27): (0, 1)}
    assert acme_chart.total == LoginEvent.objects.filter(account=acme).count()


def test_with_no_sign_ins_every_day_is_zero(alice):
    chart = daily_sign_ins(user=alice, now=NOW)

    assert [day.total for day in chart.days] == [0] * 30
    assert chart.busiest is None
    assert [tick.label for tick in chart.count_ticks] == ["0", "1", "2"]


def test_the_chart_is_one_query_however_many_sign_ins_there_are(
    alice, acme, django_assert_num_queries
):
    with django_assert_num_queries(1):
        daily_sign_ins(user=alice, now=NOW)
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=alice,
            account=acme,
            username="alice",
            channel="api",
            success=number % 4 != 0,
            created_at=NOW - timedelta(hours=number),
        )
        for number in range(500)
    )
    # A real attempt is stamped with the moment it happens, never in a day that has
    # ended: these back-dated ones are counted once the kept days are forgotten.
    forget_settled_days()

    with django_assert_num_queries(1):
        counted = daily_sign_ins(user=alice, now=NOW)
    with django_assert_num_queries(1):
        daily_sign_ins(account=acme, now=NOW)
    # Again, with the days before today kept.
    with django_assert_num_queries(1):
        kept = daily_sign_ins(user=alice, now=NOW)
    with django_assert_num_queries(1):
        daily_sign_ins(account=acme, now=NOW)

    # 500 hours back reaches 20 days and 20 hours: every one is inside the 30 days.
    assert (counted.succeeded, counted.failed) == (kept.succeeded, kept.failed) == (375, 125)


def test_a_chart_is_of_a_user_or_of_an_account_never_both(alice, acme):
    with pytest.raises(TypeError):
        daily_sign_ins(user=alice, account=acme, now=NOW)
    with pytest.raises(TypeError):
        daily_sign_ins(now=NOW)


def test_the_bars_stand_on_the_baseline_and_the_busiest_day_reaches_the_top(alice):
    attempt(alice, at=NOW)
    attempt(alice, at=NOW, success=False)
    attempt(alice, at=NOW - timedelta(days=1))

    chart = daily_sign_ins(user=alice, now=NOW)
    today = chart.bars[-1]

    # The coordinates as the SVG reads them.
    succeeded_y, succeeded_height, failed_y, failed_height = (
        float(written)
        for written in (
            today.succeeded_y,
            today.succeeded_height,
            today.failed_y,
            today.failed_height,
        )
    )
    assert chart.scale_top == 2
    assert succeeded_y + succeeded_height == chart.baseline
    assert failed_y + failed_height == succeeded_y
    assert today.failed_y == chart.count_ticks[-1].position
    assert [tick.label for tick in chart.date_ticks] == ["1 Mar", "16 Mar", "30 Mar"]


# The two pages


def test_the_security_page_draws_the_users_own_chart_with_a_table_of_its_numbers(alice, bob):
    attempt(alice, at=NOW - timedelta(days=2), success=False)
    attempt(bob, at=NOW)
    browser = browser_for(alice)

    response = browser.get("/settings/security/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img" aria-labelledby="sign-in-chart-svg-title"' in html
    assert 'aria-describedby="sign-in-chart-svg-desc"' in html
    assert '<title id="sign-in-chart-svg-title">Sign-ins, last 30 days</title>' in html
    # alice's sign-in just now and her failure two days ago; not bob's.
    assert "1 successful and 1 failed sign-in attempts from 1 Mar to 30 Mar 2026." in html
    assert '<time datetime="2026-03-28">Sat 28 Mar</time></th><td>0</td><td>1</td>' in html
    assert '<th scope="row">Total</th><td>1</td><td>1</td>' in html
    assert 'style="' not in html


def test_the_drawing_keeps_decimal_points_in_a_language_that_writes_decimal_commas(alice):
    attempt(alice, at=NOW)
    attempt(alice, at=NOW, success=False)
    attempt(alice, at=NOW - timedelta(days=1))
    browser = browser_for(alice)

    with translation.override("de"):
        response = browser.get("/settings/security/")

    assert response.status_code == 200
    html = response.content.decode()
    drawn = re.findall(
        r'<rect class="chart-\w+" x="([^"]*)" y="([^"]*)" width="([^"]*)" height="([^"]*)"/>', html
    )
    assert len(drawn) == 3
    # A comma in a coordinate would read as a separator: the bar would not be drawn.
    assert all(re.fullmatch(r"\d+(\.\d+)?", number) for bar in drawn for number in bar)


def test_the_owner_page_draws_the_accounts_chart(alice, bob, carol):
    attempt(bob, at=NOW - timedelta(days=1))
    attempt(carol, at=NOW)
    owner = browser_for(alice)

    response = owner.get("/account/security/")

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<title id="sign-in-chart-svg-title">Sign-ins to the account, last 30 days</title>' in html
    )
    assert "2 successful and 0 failed sign-in attempts" in html
    assert "Successful and failed sign-ins to Acme per day" in html


def test_a_sign_in_after_a_view_is_on_the_next_view(alice):
    browser = browser_for(alice)
    first = browser.get("/settings/security/").content.decode()

    sign_in("alice", "not the password")
    again = browser.get("/settings/security/").content.decode()

    assert "1 successful and 0 failed sign-in attempt from" in first
    assert "1 successful and 1 failed sign-in attempts from" in again
    assert '<th scope="row">Total</th><td>1</td><td>1</td>' in again


def test_a_chart_of_the_same_numbers_keeps_its_own_words_on_each_page(alice, acme):
    acme.name = "<b>Acme</b> & Co"
    acme.save()
    # alice's sign-ins are all of her account's: her chart and the account's are equal.
    attempt(alice, at=NOW)

    browser = browser_for(alice)

    own = browser.get("/settings/security/").content.decode()
    account = browser.get("/account/security/").content.decode()

    assert "Successful and failed sign-ins to your account per day" in own
    assert chart_totals(own) == chart_totals(account)
    # The account's name is text in its chart, never markup.
    assert "Successful and failed sign-ins to &lt;b&gt;Acme&lt;/b&gt; &amp; Co per day" in account
    assert "<b>Acme</b>" not in account


def test_a_member_never_sees_the_accounts_chart(bob):
    response = browser_for(bob).get("/account/security/")

    assert response.status_code == 403
    assert b"sign-in-chart" not in response.content
