"""Busy and failure states of the in-page actions outside the sessions card (the owner's
policy form, the expiry banner's "Stay signed in"), in Debian's chromium: a spinner and
a disabled button while a request runs, a toast for what happened, the button back
after a failure. Failures are real answers of the browser's network layer (a 500, a
dropped connection), never a stubbed script."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from conftest import sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def loading_a_page_does_not_move_the_deadline(settings):
    settings.SESSION_ACTIVITY_WRITE_SECONDS = 3600


def toasts(page: Page):
    return page.locator("#toasts")


def near_the_idle_deadline(page: Page, user) -> None:
    idle = timedelta(minutes=10)
    Session.objects.filter(user=user, revoked_at__isnull=True).update(
        idle_timeout=idle, last_seen_at=timezone.now() - idle + timedelta(minutes=2)
    )
    page.reload()


def test_a_policy_save_that_fails_says_so_and_gives_the_button_back(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")
    page.route(
        re.compile(r".*/account/security/$"),
        lambda route: (
            route.fulfill(status=500, body="Server Error")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    card = page.get_by_role("region", name="Session policy")

    card.get_by_label("Strict").check()
    card.get_by_role("button", name="Save policy").click()

    expect(toasts(page)).to_contain_text("The policy was not saved.")
    expect(toasts(page)).to_contain_text("error 500")
    expect(card.get_by_role("button", name="Save policy")).to_be_enabled()
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None


def test_stay_signed_in_is_busy_while_it_runs_then_says_it_worked(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    near_the_idle_deadline(page, alice)
    held: list[Route] = []
    page.route(re.compile(r".*/session/keepalive/$"), lambda route: held.append(route))
    button = page.get_by_role("button", name="Stay signed in")

    button.click()

    expect(button).to_be_disabled()
    expect(page.locator("#session-banner .spinner")).to_be_visible()
    held[0].continue_()
    expect(toasts(page)).to_contain_text("You will stay signed in.")
    expect(button).to_have_count(0)


def test_stay_signed_in_without_a_network_says_so_and_keeps_the_banner(
    chromium, live_server, alice
):
    page = sign_in_page(chromium, live_server.url, "alice")
    near_the_idle_deadline(page, alice)
    page.route(re.compile(r".*/session/keepalive/$"), lambda route: route.abort("failed"))

    page.get_by_role("button", name="Stay signed in").click()

    expect(toasts(page)).to_contain_text("Your session was not extended.")
    expect(toasts(page)).to_contain_text("could not be reached")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_enabled()


def test_a_toast_stays_while_its_close_button_has_focus(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    page.clock.install()
    page.reload()
    near_the_idle_deadline(page, alice)
    page.get_by_role("button", name="Stay signed in").click()
    toast = toasts(page).locator(".toast")
    expect(toast).to_have_count(1)

    toast.get_by_role("button", name="Dismiss message").focus()
    page.clock.fast_forward("00:20")

    # Not taken from under the keyboard; once focus leaves, it goes in its time.
    expect(toast).to_have_count(1)
    page.locator("#main").focus()
    page.clock.fast_forward("00:20")
    expect(toast).to_have_count(0)
