"""The owner page in a real browser: presets lock and unlock the custom inputs, the two
sign-out dialogs say different things, "Show more people" appends in place, and the
list's times keep up."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from conftest import SAFARI_IPHONE, sign_in_page
from securityportal.client import ClientInfo
from sessions import signed_in
from sessions.lifecycle import open_session

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


def test_show_more_people_appends_the_next_page_in_place(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")
    for number in range(signed_in.PAGE_SIZE):
        member = User.objects.create_user(
            username=f"member{number:03}",
            email=f"member{number:03}@acme.example",
            account=alice.account,
        )
        open_session(
            user=member, kind="api", client=ClientInfo(ip=None, user_agent=""), now=timezone.now()
        )
    page.goto(f"{live_server.url}/account/security/")
    people = page.get_by_role("region", name="Who is signed in").get_by_role("listitem")
    expect(people).to_have_count(signed_in.PAGE_SIZE + 1)  # and the "Show more" row

    page.get_by_role("link", name="Show more people").focus()
    page.keyboard.press("Enter")

    # The owner signed in first: the least recently active, on the second page.
    expect(people).to_have_count(signed_in.PAGE_SIZE + 1)
    expect(people.last).to_contain_text("alice@acme.example")
    expect(page.get_by_role("link", name="Show more people")).to_have_count(0)
    expect(page).to_have_url(f"{live_server.url}/account/security/")
    # Focus is on the first person the link brought, where reading carries on.
    expect(people.nth(signed_in.PAGE_SIZE)).to_be_focused()


def test_the_apply_now_preview_takes_focus_and_tab_reaches_its_buttons(
    chromium, live_server, alice, bob
):
    open_session(
        user=bob,
        kind="api",
        client=ClientInfo(ip=None, user_agent=""),
        now=timezone.now() - timedelta(minutes=30),
    )
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")
    card = page.get_by_role("region", name="Session policy")
    card.get_by_label("Strict").check()
    card.get_by_label("Also apply to signed-in sessions now").check()

    card.get_by_role("button", name="Save policy").focus()
    page.keyboard.press("Enter")

    preview = card.get_by_role("alert")
    expect(preview).to_contain_text("will sign out 1 session")
    expect(preview).to_be_focused()
    page.keyboard.press("Tab")
    expect(card.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Save and apply now")).to_be_focused()


def test_who_is_signed_in_keeps_its_times_up_to_date_without_a_reload(
    chromium, live_server, alice
):
    page = sign_in_page(chromium, live_server.url, "alice")
    page.clock.install()
    page.goto(f"{live_server.url}/account/security/")
    page.evaluate("window.stillThisPage = true")
    times = page.get_by_role("region", name="Who is signed in").locator("time")
    expect(times).to_have_count(2)  # active, last signed in

    page.clock.fast_forward("05:00")

    expect(times.first).to_have_text(re.compile(r"^5\xa0minutes ago$"))
    expect(times.last).to_have_text(re.compile(r"^5\xa0minutes ago$"))
    assert page.evaluate("window.stillThisPage") is True
