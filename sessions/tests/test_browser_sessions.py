"""The Active sessions card in a real browser: Debian's chromium driven by Playwright."""

import re

import pytest
from playwright.sync_api import Page, Route, expect

from audit.models import AuditEvent
from conftest import ARTIFACTS, FIREFOX_WINDOWS, SAFARI_IPHONE, sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
sign_in = sign_in_page


def session_rows(page: Page):
    return page.locator("#session-list .session-row")


def toasts(page: Page):
    return page.locator("#toasts")


def other_row(page: Page, text: str):
    return session_rows(page).filter(has_text=text)


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
    expect(toasts(laptop)).to_contain_text("Signed out Mobile Safari 17 on iPhone.")
    expect(laptop.get_by_text("You are signed in only on this device.")).to_be_visible()
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

    laptop.evaluate("window.stillThisPage = true")
    opener = laptop.get_by_role("link", name="Sign out all other sessions")
    opener.focus()
    laptop.keyboard.press("Enter")
    dialog = laptop.get_by_role("dialog", name="Sign out all other sessions?")
    expect(dialog).to_be_visible()
    laptop.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert Session.objects.filter(revoked_at__isnull=True).count() == 3

    # Keyboard only: open, Tab past Cancel to the confirmation, Enter.
    laptop.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    laptop.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Sign out others")).to_be_focused()
    laptop.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(session_rows(laptop)).to_have_count(1)
    expect(toasts(laptop)).to_contain_text("Signed out 2 other sessions")
    # The opener went with the old list: focus lands on the card's heading, not the page top.
    expect(laptop.get_by_role("heading", name="Active sessions")).to_be_focused()
    assert laptop.evaluate("window.stillThisPage") is True
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

    expect(toasts(laptop)).to_contain_text(
        "Signed out 1 other session. Only this device is signed in."
    )
    expect(session_rows(laptop)).to_have_count(1)
    assert Session.objects.filter(revoked_reason="user").count() == 1
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1


@pytest.mark.parametrize(
    ("failure", "told"),
    [
        (lambda route: route.fulfill(status=500, body="Server Error"), "error 500"),
        (lambda route: route.abort("internetdisconnected"), "could not be reached"),
    ],
    ids=["server-error", "network-down"],
)
def test_a_failed_sign_out_says_so_refreshes_the_list_and_gives_the_button_back(
    chromium, live_server, alice, failure, told
):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")
    laptop.evaluate("window.stillThisPage = true")
    laptop.route(re.compile(r".*/sessions/[0-9a-f-]+/revoke/$"), failure)

    other_row(laptop, "iPhone").get_by_role("button", name="Sign out").click()

    expect(toasts(laptop)).to_contain_text("The sign-out did not go through.")
    expect(toasts(laptop)).to_contain_text(told)
    expect(laptop.locator("#session-list .spinner:visible")).to_have_count(0)
    button = other_row(laptop, "iPhone").get_by_role("button", name="Sign out")
    expect(button).to_be_enabled()
    # The disabled button lost focus while the request ran; it is not left on the page top.
    expect(laptop.get_by_role("heading", name="Active sessions")).to_be_focused()
    assert laptop.evaluate("window.stillThisPage") is True
    assert Session.objects.filter(revoked_at__isnull=True).count() == 2

    # The error stays until dismissed: a message that vanished may never have been read.
    toasts(laptop).get_by_role("button", name="Dismiss message").click()
    expect(toasts(laptop).locator(".toast")).to_have_count(0)


def test_signing_out_a_session_ended_elsewhere_says_so_and_drops_its_row(
    chromium, live_server, alice
):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    tablet = sign_in(chromium, live_server.url, "alice", user_agent=FIREFOX_WINDOWS)
    laptop = sign_in(chromium, live_server.url, "alice")
    expect(session_rows(laptop)).to_have_count(3)

    # Another tab ends the phone's session after the laptop drew its list.
    tablet.reload()
    other_row(tablet, "iPhone").get_by_role("button", name="Sign out").click()
    expect(toasts(tablet)).to_contain_text("Signed out")
    other_row(laptop, "iPhone").get_by_role("button", name="Sign out").click()

    expect(toasts(laptop)).to_contain_text("That session had already ended.")
    expect(other_row(laptop, "iPhone")).to_have_count(0)
    expect(session_rows(laptop)).to_have_count(2)


def test_while_a_sign_out_runs_its_button_is_disabled_and_a_spinner_shows(
    chromium, live_server, alice
):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")
    held: list[Route] = []
    laptop.route(re.compile(r".*/sessions/[0-9a-f-]+/revoke/$"), lambda route: held.append(route))
    row = other_row(laptop, "iPhone")
    spinner = row.locator(".spinner")
    expect(spinner).to_be_hidden()

    row.get_by_role("button", name="Sign out").click()

    expect(row.get_by_role("button", name="Sign out")).to_be_disabled()
    expect(spinner).to_be_visible()
    expect(row.locator("form")).to_have_attribute("aria-busy", "true")
    # A second click while it runs sends nothing more.
    row.get_by_role("button", name="Sign out").click(force=True)
    assert len(held) == 1
    held[0].continue_()

    expect(session_rows(laptop)).to_have_count(1)
    expect(toasts(laptop)).to_contain_text("Signed out Mobile Safari 17 on iPhone.")
    assert Session.objects.filter(revoked_reason="user").count() == 1


def test_each_row_shows_its_device_and_its_details_on_request(chromium, live_server, alice):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")

    expect(session_rows(laptop).first).to_contain_text("This device")
    phone = other_row(laptop, "iPhone")
    expect(phone.locator(".device-icon")).to_have_attribute("title", "Phone")
    expect(phone.get_by_text(SAFARI_IPHONE)).to_be_hidden()
    phone.locator("summary").click()
    expect(phone.get_by_text(SAFARI_IPHONE)).to_be_visible()
    expect(phone.get_by_text("Signed out at the latest")).to_be_visible()


def test_relative_times_move_on_without_a_reload(chromium, live_server, alice):
    sign_in(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    laptop = sign_in(chromium, live_server.url, "alice")
    laptop.clock.install()
    laptop.reload()
    laptop.evaluate("window.stillThisPage = true")
    signed_in = other_row(laptop, "iPhone").locator(".session-meta time").last

    laptop.clock.fast_forward("05:00")

    expect(signed_in).to_have_text(re.compile(r"^5\xa0minutes ago$"))
    assert laptop.evaluate("window.stillThisPage") is True
