"""The expiry banner in a real browser: Debian's chromium driven by Playwright. The session
is brought near its deadline by editing its row, never by waiting."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import ARTIFACTS, sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDLE_TEXT = re.compile(r"You will be signed out in \d+ minutes? because of inactivity\.")
ABSOLUTE_TEXT = re.compile(r"Your session reaches its maximum length in \d+ minutes?\.")


@pytest.fixture(autouse=True)
def loading_a_page_does_not_move_the_deadline(settings):
    # Page loads are activity, written at most once per this interval: with a long
    # one, reloading a tab leaves the deadline the test set, while "Stay signed in"
    # still writes at once.
    settings.SESSION_ACTIVITY_WRITE_SECONDS = 3600


def idle_deadline_in(user, left: timedelta) -> None:
    """Make the user's session idle-expire ``left`` from now (its idle limit 10 minutes)."""
    idle = timedelta(minutes=10)
    Session.objects.filter(user=user, revoked_at__isnull=True).update(
        idle_timeout=idle, last_seen_at=timezone.now() - idle + left
    )


def banner(page: Page):
    return page.locator("#session-banner")


def test_stay_signed_in_clears_the_banner_in_a_second_tab_of_the_same_browser(
    chromium, live_server, alice
):
    first = sign_in_page(chromium, live_server.url, "alice")
    idle_deadline_in(alice, timedelta(minutes=2))
    first.reload()
    second = first.context.new_page()
    second.goto(f"{live_server.url}/settings/security/")
    expect(first.get_by_text(IDLE_TEXT)).to_be_visible()
    expect(second.get_by_text(IDLE_TEXT)).to_be_visible()
    # Someone typing in the second tab keeps their place when its banner goes.
    second.get_by_label("Current password").focus()
    seen_before = Session.objects.get(user=alice).last_seen_at

    first.get_by_role("button", name="Stay signed in").click()

    # Well within the banner's own 15-second poll: the first tab told the second.
    expect(first.get_by_text(IDLE_TEXT)).to_have_count(0)
    expect(second.get_by_text(IDLE_TEXT)).to_have_count(0)
    assert Session.objects.get(user=alice).last_seen_at > seen_before
    assert second.evaluate("document.activeElement.name") == "old_password"


def test_a_dismissed_banner_stays_hidden_in_every_tab_until_its_deadline_changes(
    chromium, live_server, alice
):
    first = sign_in_page(chromium, live_server.url, "alice")
    idle_deadline_in(alice, timedelta(minutes=3))
    first.reload()
    second = first.context.new_page()
    second.goto(f"{live_server.url}/settings/security/")
    expect(second.get_by_text(IDLE_TEXT)).to_be_visible()

    first.get_by_role("button", name="Dismiss").click()

    # Hidden, not gone: a hidden banner keeps polling.
    expect(banner(first)).to_have_attribute("hidden", "")
    expect(banner(second)).to_have_attribute("hidden", "")
    first.reload()
    expect(banner(first)).to_have_attribute("data-deadline", re.compile(".+"))
    expect(banner(first)).to_have_attribute("hidden", "")
    expect(first.get_by_text(IDLE_TEXT)).to_be_hidden()
    # A new deadline is a new warning.
    idle_deadline_in(alice, timedelta(minutes=4))
    first.reload()
    expect(first.get_by_text(IDLE_TEXT)).to_be_visible()


def test_the_banner_is_keyboard_usable_and_takes_no_focus_when_it_appears(
    chromium, live_server, alice
):
    page = sign_in_page(chromium, live_server.url, "alice")
    idle_deadline_in(alice, timedelta(minutes=2))
    page.reload()
    expect(page.get_by_text(IDLE_TEXT)).to_be_visible()
    assert page.evaluate("document.activeElement === document.body")

    page.get_by_role("button", name="Stay signed in").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_text(IDLE_TEXT)).to_have_count(0)
    assert page.evaluate("document.activeElement.id") == "main"


def poll(page: Page) -> None:
    """Ask for the banner's state now, as its scheduled poll does."""
    page.evaluate(
        """() => {
            const banner = document.getElementById("session-banner");
            return htmx.ajax("GET", banner.getAttribute("hx-get"),
                             {source: banner, target: banner, swap: "outerHTML"});
        }"""
    )


def test_a_screen_reader_hears_each_warning_once_however_often_the_banner_polls(
    chromium, live_server, alice
):
    page = sign_in_page(chromium, live_server.url, "alice")
    announcer = page.locator("#session-banner-announcer")
    expect(announcer).to_have_attribute("role", "status")
    page.evaluate(
        """() => {
            window.announcements = [];
            new MutationObserver(() => window.announcements.push(
                document.getElementById("session-banner-announcer").textContent
            )).observe(document.getElementById("session-banner-announcer"),
                       {childList: true, characterData: true, subtree: true});
        }"""
    )
    idle_deadline_in(alice, timedelta(minutes=3))

    poll(page)
    expect(page.get_by_text(IDLE_TEXT).first).to_be_visible()
    poll(page)
    poll(page)

    # The warning is said once; the polls that bring the same deadline say nothing,
    # and the banner they replace is no live region of its own.
    announcements = page.evaluate("window.announcements")
    assert len(announcements) == 1
    assert IDLE_TEXT.fullmatch(announcements[0])
    assert page.locator("#session-banner[role], #session-banner [aria-live]").count() == 0
    assert page.locator("[aria-live]:has(#session-banner)").count() == 0

    # A new deadline is a new warning.
    idle_deadline_in(alice, timedelta(minutes=2))
    poll(page)
    assert len(page.evaluate("window.announcements")) == 2

    # Dismissed, it is not left behind for a screen reader to find, and a poll of
    # the same deadline does not bring it back.
    page.get_by_role("button", name="Dismiss").click()
    expect(announcer).to_have_text("")
    poll(page)
    expect(announcer).to_have_text("")


def test_at_the_deadline_the_page_goes_to_the_login_page_by_itself(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    idle_deadline_in(alice, timedelta(seconds=8))
    page.reload()
    expect(page.get_by_text(IDLE_TEXT)).to_be_visible()

    # The banner's last poll is due at the deadline; nothing else reloads the page.
    expect(page).to_have_url(
        f"{live_server.url}/login/?reason=session_expired&next=/settings/security/",
        timeout=20_000,
    )
    assert Session.objects.get(user=alice).revoked_reason == "expired_idle"


def test_sign_in_now_signs_out_and_back_in_to_the_same_page(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    Session.objects.filter(user=alice).update(expire_date=timezone.now() + timedelta(minutes=3))
    page.reload()
    expect(page.get_by_text(ABSOLUTE_TEXT)).to_be_visible()
    expect(page.get_by_role("button", name="Stay signed in")).to_have_count(0)

    page.get_by_role("button", name="Sign in now").click()

    expect(page).to_have_url(f"{live_server.url}/login/?next=/settings/security/")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/settings/security/")
    expect(page.get_by_text(ABSOLUTE_TEXT)).to_have_count(0)
    reasons = sorted(Session.objects.filter(user=alice).values_list("revoked_reason", flat=True))
    assert reasons == ["", "logout"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("deadline", ["idle", "absolute"])
def test_the_banner_fits_a_phone_screen(chromium, live_server, alice, scheme, deadline):
    page = sign_in_page(
        chromium,
        live_server.url,
        "alice",
        viewport={"width": 375, "height": 812},
        color_scheme=scheme,
    )
    if deadline == "idle":
        idle_deadline_in(alice, timedelta(minutes=2))
    else:
        Session.objects.filter(user=alice).update(
            expire_date=timezone.now() + timedelta(minutes=3)
        )
    page.reload()
    expect(banner(page)).to_be_visible()
    expect(page.get_by_role("button", name="Dismiss")).to_be_visible()

    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    ARTIFACTS.mkdir(exist_ok=True)
    banner(page).screenshot(path=ARTIFACTS / f"banner-{deadline}-375-{scheme}.png")


# Storage that is blocked (cookies and site data off) throws on every use of it.
STORAGE_BLOCKED = """
Object.defineProperty(window, "localStorage", {
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
});
"""
# Storage that is full: reads work (an older dismissal is still there), writes throw.
STORAGE_FULL_WITH_AN_OLD_DISMISSAL = """
localStorage.setItem("session-banner:dismissed", "2000-01-01T00:00:00+00:00");
Storage.prototype.setItem = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
"""


@pytest.mark.parametrize("storage", [STORAGE_BLOCKED, STORAGE_FULL_WITH_AN_OLD_DISMISSAL])
def test_dismiss_works_in_every_tab_when_storage_cannot_be_written(
    chromium, live_server, alice, storage
):
    first = sign_in_page(chromium, live_server.url, "alice")
    first.context.add_init_script(storage)
    idle_deadline_in(alice, timedelta(minutes=3))
    first.reload()
    second = first.context.new_page()
    second.goto(f"{live_server.url}/settings/security/")
    expect(second.get_by_text(IDLE_TEXT)).to_be_visible()

    first.get_by_role("button", name="Dismiss").focus()
    first.keyboard.press("Enter")

    expect(banner(first)).to_have_attribute("hidden", "")
    expect(banner(second)).to_have_attribute("hidden", "")
    # The keyboard is not left on a hidden button.
    assert first.evaluate("document.activeElement.id") == "main"


def test_a_tab_still_on_the_previous_page_version_is_heard(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    idle_deadline_in(alice, timedelta(minutes=3))
    # The page's clock stands still: its own scheduled poll does not come.
    page.clock.install()
    page.reload()
    expect(page.get_by_text(IDLE_TEXT)).to_be_visible()

    # Pages served before this version said "kept-alive" as a bare string.
    with page.expect_request(re.compile(r".*/session/status/$"), timeout=5_000):
        page.evaluate('new BroadcastChannel("session-banner").postMessage("kept-alive")')
