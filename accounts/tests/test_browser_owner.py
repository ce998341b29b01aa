"""The owner page in a real browser: presets lock and unlock the custom inputs, and the
two sign-out dialogs say different things."""

import pytest
from playwright.sync_api import expect

from conftest import SAFARI_IPHONE, sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_presets_lock_the_custom_inputs_and_custom_unlocks_them(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")
    card = page.get_by_role("region", name="Session policy")
    idle = card.get_by_label("Idle limit (minutes)")
    absolute = card.get_by_label("Absolute limit (minutes)")

    expect(idle).to_be_disabled()
    expect(idle).to_have_value("60")
    card.get_by_label("Custom").check()
    expect(idle).to_be_enabled()
    idle.fill("25")
    card.get_by_label("Strict").check()
    expect(idle).to_be_disabled()
    expect(idle).to_have_value("15")
    expect(absolute).to_have_value("480")
    card.get_by_label("Custom").check()
    expect(idle).to_have_value("25")

    absolute.fill("600")
    card.get_by_role("button", name="Save policy").click()
    expect(card.get_by_role("status")).to_contain_text("Saved.")
    alice.account.refresh_from_db()
    assert (alice.account.session_idle_minutes, alice.account.session_absolute_minutes) == (
        25,
        600,
    )


def test_the_two_dialogs_differ_by_scope(chromium, live_server, alice, bob):
    sign_in_page(chromium, live_server.url, "bob", user_agent=SAFARI_IPHONE)
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")

    page.get_by_role("link", name="Sign out everyone except me").click()
    others = page.get_by_role("dialog", name="Sign out everyone except you?")
    expect(others).to_contain_text("You stay signed in on this device.")
    expect(others.get_by_role("button", name="Sign out 1 session")).to_be_visible()
    page.keyboard.press("Escape")
    expect(others).to_be_hidden()

    page.get_by_role("link", name="Sign out everyone, including me").click()
    everyone = page.get_by_role("dialog", name="Sign out everyone, including you?")
    expect(everyone).to_contain_text("yours on this device too")
    everyone.get_by_role("button", name="Sign out everyone").click()
    expect(page).to_have_url(f"{live_server.url}/login/?reason=signed_out")
