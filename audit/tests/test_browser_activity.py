"""The Recent activity card in a real browser: failures and successes, "Load more", and
relative times that keep up."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import LoginEvent
from conftest import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_sign_in_shows_in_recent_activity_and_older_ones_load_in_place(
    chromium, live_server, alice
):
    for _ in range(12):
        LoginEvent.objects.create(
            user=alice, username="alice", channel="api", success=True, device="backup-job"
        )
    page = chromium.new_context().new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password", exact=True).fill("a wrong guess")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The username or password is incorrect.")
    page.close()

    laptop = sign_in_page(chromium, live_server.url, "alice")
    card = laptop.get_by_role("region", name="Recent activity")
    rows = card.locator(".activity-row")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("Signed in")
    expect(rows.nth(1)).to_contain_text("Failed sign-in")

    laptop.evaluate("window.stillThisPage = true")
    card.get_by_role("link", name="Load more").focus()
    laptop.keyboard.press("Enter")
    expect(rows).to_have_count(14)
    expect(card.get_by_role("link", name="Load more")).to_have_count(0)
    assert laptop.evaluate("window.stillThisPage") is True
    # The keyboard carries on from the first row the link brought, not the page's top.
    expect(rows.nth(10)).to_be_focused()


def test_activity_times_move_on_without_a_reload_in_rows_loaded_later_too(
    chromium, live_server, alice
):
    for _ in range(12):
        LoginEvent.objects.create(
            user=alice, username="alice", channel="api", success=True, device="backup-job"
        )
    laptop = sign_in_page(chromium, live_server.url, "alice")
    laptop.clock.install()
    laptop.reload()
    laptop.evaluate("window.stillThisPage = true")
    card = laptop.get_by_role("region", name="Recent activity")
    card.get_by_role("link", name="Load more").click()
    times = card.locator(".activity-row time")
    expect(times).to_have_count(13)

    laptop.clock.fast_forward("05:00")

    expect(times.first).to_have_text(re.compile(r"^5\xa0minutes ago$"))
    expect(times.last).to_have_text(re.compile(r"^5\xa0minutes ago$"))
    assert laptop.evaluate("window.stillThisPage") is True


def test_relative_times_count_on_the_servers_clock_not_the_devices(chromium, live_server, alice):
    laptop = sign_in_page(chromium, live_server.url, "alice")
    # This device's clock is three minutes behind the server's.
    laptop.clock.install(time=timezone.now() - timedelta(minutes=3))
    laptop.reload()
    newest = laptop.get_by_role("region", name="Recent activity").locator(".activity-row time")

    laptop.clock.fast_forward("00:30")

    expect(newest.first).to_have_text(re.compile(r"^(\d+\xa0seconds|a minute) ago$"))


def test_a_time_four_weeks_old_or_more_keeps_the_servers_words(chromium, live_server, alice):
    event = LoginEvent.objects.create(
        user=alice, username="alice", channel="api", success=True, device="backup-job"
    )
    # 180 days: whatever the date, Django's calendar months and 30-day ones word it
    # differently.
    LoginEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=180))
    laptop = sign_in_page(chromium, live_server.url, "alice")
    laptop.clock.install()
    laptop.reload()
    oldest = (
        laptop.get_by_role("region", name="Recent activity").locator(".activity-row time").last
    )
    said = oldest.inner_text()

    laptop.clock.fast_forward("01:00")

    # Django counts months by the calendar: the page's own wording stays rather than
    # be rewritten with 30-day months.
    expect(oldest).to_have_text(said)


def test_load_more_that_fails_says_so_and_can_be_tried_again(chromium, live_server, alice):
    for _ in range(12):
        LoginEvent.objects.create(
            user=alice, username="alice", channel="api", success=True, device="backup-job"
        )
    laptop = sign_in_page(chromium, live_server.url, "alice")
    laptop.route(re.compile(r".*/settings/security/activity/\?after=.*"), lambda r: r.abort())
    card = laptop.get_by_role("region", name="Recent activity")

    card.get_by_role("link", name="Load more").click()

    expect(laptop.locator("#toasts")).to_contain_text("The older sign-ins were not loaded.")
    expect(card.get_by_role("link", name="Load more")).to_be_visible()
    expect(card.locator(".activity-row")).to_have_count(10)
