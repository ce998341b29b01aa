"""The sign-in page in a real browser: a deep link survives signing in, by keyboard alone."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_signed_out_visit_to_a_deep_link_lands_there_after_signing_in_by_keyboard(
    chromium, live_server, alice
):
    page = chromium.new_context().new_page()
    page.goto(f"{live_server.url}/settings/security/activity/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/settings/security/activity/")

    page.get_by_label("Username or e-mail").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/settings/security/activity/")
    expect(page.get_by_role("region", name="Recent activity")).to_be_visible()


def test_a_next_to_another_site_is_ignored(chromium, live_server, alice):
    page = chromium.new_context().new_page()
    page.goto(f"{live_server.url}/login/?next=https://attacker.example/")

    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # An open redirect would hand a fresh session's user to a look-alike page.
    expect(page).to_have_url(f"{live_server.url}/settings/security/")
