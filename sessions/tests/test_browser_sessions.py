"""The Active sessions card in a real browser: Debian's chromium driven by Playwright."""

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from conftest import ARTIFACTS, SAFARI_IPHONE, sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
sign_in = sign_in_page


def session_rows(page: Page):
    return page.locator("#session-list .session-row")


def test_signing_out_another_device_swaps_the_list_and_ends_that_session(
    chromium, live_server, alice
):
    phone = sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")
    expect(session_rows(laptop)).to_have_count(2)
    expect(laptop.get_by_text("This device", exact=True)).to_have_count(1)

    # A marker on window survives only if the page is not reloaded.
    laptop.evaluate("window.stillThisPage = true")
    phone_row = session_rows(laptop).filter(has_text="iPhone")
    phone_row.get_by_role("button", name="Sign out").click()

    expect(session_rows(laptop)).to_have_count(1)
    expect(laptop.get_by_role("status")).to_contain_text("Signed out")
    assert laptop.evaluate("window.stillThisPage") is True
    assert Session.objects.filter(revoked_reason="user").count() == 1

    phone.reload()
    expect(phone).to_have_url(
        f"{live_server.url}/login/?reason=session_expired&next=/settings/security/"
    )
    expect(phone.get_by_role("status")).to_contain_text("it expired or was signed out")


def test_sign_out_all_others_is_confirmed_in_a_keyboard_usable_dialog(
    chromium, live_server, alice
):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    sign_in(chromium, live_server.url, "alice", user_agent="Firefox-less test agent")
    laptop = sign_in(chromium, live_server.url, "alice")
    expect(session_rows(laptop)).to_have_count(3)

    opener = laptop.get_by_role("link", name="Sign out all other sessions")
    opener.focus()
    laptop.keyboard.press("Enter")
    dialog = laptop.get_by_role("dialog", name="Sign out all other sessions?")
    expect(dialog).to_be_visible()
    laptop.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert Session.objects.filter(revoked_at__isnull=True).count() == 3

    opener.focus()
    laptop.keyboard.press("Enter")
    dialog.get_by_role("button", name="Sign out others").click()
    expect(dialog).to_be_hidden()
    expect(session_rows(laptop)).to_have_count(1)
    expect(laptop.get_by_role("status")).to_contain_text("Signed out 2 other sessions")
    assert Session.objects.filter(revoked_at__isnull=True).count() == 1


def test_without_javascript_sign_out_all_others_still_works(chromium, live_server, alice):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice", java_script_enabled=False)

    laptop.get_by_role("link", name="Sign out all other sessions").click()
    expect(laptop).to_have_url(f"{live_server.url}/settings/security/sessions/revoke-others/")
    laptop.get_by_role("button", name="Sign out others").click()

    expect(laptop).to_have_url(f"{live_server.url}/settings/security/")
    expect(laptop.get_by_text("Signed out 1 other session.")).to_be_visible()
    expect(session_rows(laptop)).to_have_count(1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_security_page_fits_a_phone_screen(chromium, live_server, alice, scheme):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    page = sign_in(
        chromium,
        live_server.url,
        "alice",
        viewport={"width": 375, "height": 812},
        color_scheme=scheme,
    )
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"security-375-{scheme}.png", full_page=True)


def test_a_double_click_on_sign_out_others_ends_them_once_and_says_so_once(
    chromium, live_server, alice
):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")

    laptop.get_by_role("link", name="Sign out all other sessions").click()
    dialog = laptop.get_by_role("dialog", name="Sign out all other sessions?")
    dialog.get_by_role("button", name="Sign out others").dblclick()

    expect(laptop.get_by_role("status")).to_contain_text(
        "Signed out 1 other session. Only this device is signed in."
    )
    expect(session_rows(laptop)).to_have_count(1)
    assert Session.objects.filter(revoked_reason="user").count() == 1
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1
