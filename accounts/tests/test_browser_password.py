"""The Password card in a real browser: show/hide, hints while typing, and the change."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, SAFARI_IPHONE, sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a brand new and rather long passphrase"


def session_rows(page):
    return page.locator("#session-list .session-row")


def test_changing_the_password_signs_out_the_other_device_and_keeps_this_one(
    chromium, live_server, alice
):
    phone = sign_in_page(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in_page(chromium, live_server.url, "alice")
    card = laptop.get_by_role("region", name="Password")

    card.get_by_label("Current password").fill(PASSWORD)
    card.get_by_label("New password", exact=True).fill("too short")
    expect(card.get_by_text("3 more characters needed.")).to_be_visible()
    card.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    expect(card.get_by_text("3 more characters needed.")).to_have_count(0)
    card.get_by_label("Confirm new password").fill(NEW_PASSWORD + "!")
    mismatch = card.get_by_text("The two new passwords do not match yet.")
    expect(mismatch).to_be_visible()
    # Shown to see the typo, then masked again before sending.
    reveal = card.locator("[aria-controls=id_new_password2]")
    reveal.click()
    expect(card.get_by_label("Confirm new password")).to_have_attribute("type", "text")
    card.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    expect(mismatch).to_have_count(0)
    reveal.click()
    expect(card.get_by_label("Confirm new password")).to_have_attribute("type", "password")
    card.get_by_role("button", name="Change password").click()

    expect(
        laptop.get_by_text("Your password was changed. 1 other session was signed out.")
    ).to_be_visible()
    expect(session_rows(laptop)).to_have_count(1)
    assert Session.objects.filter(revoked_reason="password_change").count() == 1
    phone.reload()
    expect(phone).to_have_url(
        f"{live_server.url}/login/?reason=session_expired&next=/settings/security/"
    )


def test_a_wrong_current_password_is_shown_in_the_card_without_a_reload(
    chromium, live_server, alice
):
    laptop = sign_in_page(chromium, live_server.url, "alice")
    laptop.evaluate("window.stillThisPage = true")
    card = laptop.get_by_role("region", name="Password")

    card.get_by_label("Current password").fill("not my password at all")
    card.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    card.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    card.get_by_role("button", name="Change password").click()

    expect(card.get_by_text("Your current password is not correct.")).to_be_visible()
    assert laptop.evaluate("window.stillThisPage") is True
    assert not Session.objects.filter(revoked_at__isnull=False).exists()
    # Focus is on the field in error, which names its error to a screen reader.
    expect(card.get_by_label("Current password")).to_be_focused()
    expect(card.get_by_label("Current password")).to_have_accessible_description(
        "Your current password is not correct."
    )


def test_show_reveals_a_password_and_hide_masks_it_again(chromium, live_server, alice):
    laptop = sign_in_page(chromium, live_server.url, "alice")
    card = laptop.get_by_role("region", name="Password")
    current = card.get_by_label("Current password")

    # Each toggle is named after its field, and says what a press will do.
    reveal = card.get_by_role("button", name="Show current password")
    expect(card.get_by_role("button", name="Show new password")).to_be_visible()
    reveal.click()
    expect(current).to_have_attribute("type", "text")
    hide = card.get_by_role("button", name="Hide current password")
    expect(hide).to_be_visible()
    expect(hide).not_to_have_attribute("aria-pressed", re.compile(".*"))
    hide.click()
    expect(current).to_have_attribute("type", "password")
    expect(card.get_by_role("button", name="Show current password")).to_be_visible()


def test_the_length_hint_counts_characters_as_the_server_does(chromium, live_server, alice):
    laptop = sign_in_page(chromium, live_server.url, "alice")
    card = laptop.get_by_role("region", name="Password")

    # Six emoji are six characters to the server, twelve UTF-16 units to JavaScript.
    card.get_by_label("New password", exact=True).fill("\U0001f512" * 6)

    expect(card.locator("[data-hint-for=new_password1]")).to_have_text("6 more characters needed.")
