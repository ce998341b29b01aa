"""The security page, the owner page and their next pages (activity, who is signed in)
cost the same number of queries whatever the number of sessions and sign-in events
behind them: no list is read row by row."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.chart import forget_settled_days
from audit.models import LoginEvent
from conftest import browser_for
from securityportal.client import ClientInfo
from sessions.lifecycle import open_session

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
PAGES = ["/settings/security/", "/account/security/"]
ALICES_IP, BOBS_IP = "203.0.113.5", "198.51.100.7"


def visit(browser, path: str) -> tuple[int, str]:
    """The number of queries a visit to ``path`` costs, and the page."""
    with CaptureQueriesContext(connection) as sent:
        response = browser.get(path)
    assert response.status_code == 200, response.content
    return len(sent.captured_queries), response.content.decode()


def chart_summary(page: str) -> str:
    """The chart's description: its totals and its busiest day."""
    return re.search(r"\d+ successful and \d+ failed sign-in attempt[^<]*", page)[0]


def crowd(alice, bob, *, sessions: int, events: int) -> None:
    """More sessions of alice and bob's, and a month of their sign-ins."""
    for number in range(sessions):
        open_session(
            user=alice if number % 2 else bob,
            kind="api",
            client=ClientInfo(ip=f"198.51.100.{number}", user_agent=f"sync-job/{number}"),
            now=NOW,
        )
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=alice if number % 2 else bob,
            account_id=alice.account_id,
            username="alice" if number % 2 else "bob",
            channel="browser",
            success=number % 5 != 0,
            created_at=NOW - timedelta(hours=number),
        )
        for number in range(events)
    )


@pytest.mark.parametrize("path", PAGES)
def test_the_page_costs_the_same_queries_with_1_or_30_sessions_and_0_or_500_events(
    path, alice, bob
):
    with time_machine.travel(NOW, tick=False):
        browser = browser_for(alice)
        LoginEvent.objects.all().delete()
        browser.get(path)  # whatever a first visit writes once is not counted
        alone, _ = visit(browser, path)
        crowd(alice, bob, sessions=29, events=500)
        # The crowd's sign-ins are back-dated, as no real one is: the chart forgets its
        # kept days, so the month is counted afresh, then kept again.
        forget_settled_days()

        crowded, page = visit(browser, path)
        kept, page_again = visit(browser, path)

    assert crowded == kept == alone
    # The crowd is on the page: the month's sign-ins in the chart.
    assert "0 successful and 0 failed" not in page
    assert " failed sign-in attempts from 1 Mar to 30 Mar 2026." in page
    assert chart_summary(page_again) == chart_summary(page)


@pytest.mark.parametrize("path", ["/settings/security/activity/", "/account/security/people/"])
def test_the_next_pages_cost_the_same_queries_with_1_or_30_sessions_and_0_or_500_events(
    path, alice, bob
):
    with time_machine.travel(NOW, tick=False):
        browser = browser_for(alice)
        LoginEvent.objects.all().delete()
        browser.get(path)
        alone, lone_page = visit(browser, path)
        crowd(alice, bob, sessions=29, events=500)

        crowded, page = visit(browser, path)

    assert crowded == alone
    # The crowd is on the page: more rows than before it came.
    assert page.count("<li") > lone_page.count("<li")


@pytest.mark.parametrize("path", ["/settings/security/", "/settings/security/activity/"])
def test_after_one_visit_the_page_builds_no_sql_only_runs_it(path, alice, bob):
    """Building a statement from a queryset cost more than PostgreSQL's answer: the
    page's statements are built once per connection and run with each visit's values."""
    # Each user signed in from an address of their own: whose rows a page lists shows.
    for user, ip in ((alice, ALICES_IP), (bob, BOBS_IP)):
        client = ClientInfo(ip=ip, user_agent="sync-job/1")
        open_session(user=user, kind="api", client=client, now=timezone.now())
        LoginEvent.objects.create(
            user=user,
            account_id=user.account_id,
            username=user.username,
            channel="browser",
            success=True,
            ip=ip,
        )
    browser = browser_for(alice)
    browser.get(path)
    built = []
    as_sql = SQLCompiler.as_sql

    def counted(compiler, *args, **kwargs):
        built.append(compiler.query.model)
        return as_sql(compiler, *args, **kwargs)

    # Another user's visit: the values change, the statements do not.
    other = browser_for(bob)
    with mock.patch.object(SQLCompiler, "as_sql", counted):
        queries, _ = visit(browser, path)
        _, page = visit(other, path)

    assert built == []
    assert queries > 0
    # The statements alice's visit compiled ran with bob's values on his.
    assert BOBS_IP in page
    assert ALICES_IP not in page
