"""Rows of the Active sessions card that people can tell apart: this device pinned first,
an icon and words for the kind of device, exact times, details, an empty state; the
same device label as the API; and a page whose query count does not grow with rows."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import SAFARI_IPHONE, api_login, bearer, browser_for

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"}
ONLY_THIS_DEVICE = "You are signed in only on this device."
ACME_CLI = "acme-cli/2.3 (linux)"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SESSION_IDLE_MINUTES_DEFAULT = 60
    settings.SESSION_ABSOLUTE_MINUTES_DEFAULT = 10080


def rows(content: str) -> list[str]:
    """The session rows of the card, in their order, as HTML."""
    return re.findall(r'<li class="session-row".*?</li>', content, flags=re.DOTALL)


def page_of(browser: Client) -> str:
    response = browser.get("/settings/security/")
    assert response.status_code == 200
    return response.content.decode()


def test_this_device_is_first_even_when_another_was_active_more_recently(alice):
    with time_machine.travel(START, tick=False) as traveller:
        laptop = browser_for(alice)
        traveller.shift(timedelta(seconds=30))
        browser_for(alice, SAFARI_IPHONE)
        # Within the minute in which the laptop's activity is not written again: by
        # last activity the phone is the newer, and would be listed first.
        traveller.shift(timedelta(seconds=10))

        first, second = rows(page_of(laptop))

    assert 'aria-current="true"' in first
    assert "This device" in first
    assert "iPhone" in second
    assert "This device" not in second


def test_each_row_says_its_kind_of_device_in_words_beside_the_icon(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)
    api_login(alice, user_agent=ACME_CLI)

    content = page_of(laptop)

    [computer] = [row for row in rows(content) if "Chrome 131 on macOS" in row]
    [phone] = [row for row in rows(content) if "iPhone" in row]
    [api] = [row for row in rows(content) if "acme-cli 2.3" in row]
    assert '<span class="visually-hidden">Computer:</span>' in computer
    assert '<span class="visually-hidden">Phone:</span>' in phone
    assert '<span class="visually-hidden">API client:</span>' in api
    for row in (computer, phone, api):
        assert re.search(r'<svg [^>]*aria-hidden="true"', row)


def test_an_api_client_is_named_by_its_product_token_on_the_page_and_in_the_api(alice):
    laptop = browser_for(alice)
    tokens = api_login(alice, user_agent=ACME_CLI)

    content = page_of(laptop)
    listed = bearer(tokens["access"], user_agent=ACME_CLI).get("/api/auth/sessions").json()

    assert "acme-cli 2.3" in content
    assert "Unknown device" not in content
    assert {session["device"] for session in listed} == {"Chrome 131 on macOS", "acme-cli 2.3"}


def test_identical_devices_are_told_apart_by_their_sign_in_times(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        traveller.shift(timedelta(minutes=7))
        browser_for(alice)
        traveller.shift(timedelta(minutes=7))
        laptop = browser_for(alice)

        content = page_of(laptop)

    labels = re.findall(r'aria-label="(Sign out [^"]*)"', content)
    assert labels == [
        "Sign out Chrome 131 on macOS, signed in 3 Mar 2025, 09:07:00 UTC",
        "Sign out Chrome 131 on macOS, signed in 3 Mar 2025, 09:00:00 UTC",
    ]


def test_relative_times_carry_the_exact_time_for_a_hover(alice):
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice, SAFARI_IPHONE)
        traveller.shift(timedelta(minutes=3))
        laptop = browser_for(alice)

        [_, phone] = rows(page_of(laptop))

    assert (
        '<time datetime="2025-03-03T09:00:00+00:00" title="3 Mar 2025, 09:00:00 UTC" '
        "data-relative>3\xa0minutes ago</time>"
    ) in phone


def test_details_show_the_raw_user_agent_the_ip_and_every_deadline(alice):
    with time_machine.travel(START, tick=False):
        laptop = browser_for(alice)
        browser_for(alice, SAFARI_IPHONE)

        [_, phone] = rows(page_of(laptop))

    details = phone[phone.index("<details") : phone.index("</details>")]
    assert f"<code>{SAFARI_IPHONE}</code>" in details
    assert "<dt>IP address</dt><dd>127.0.0.1</dd>" in details
    assert "<dt>Kind</dt><dd>Browser, phone</dd>" in details
    assert "3 Mar 2025, 09:00:00 UTC</time></dd>" in details  # signed in, last active
    # The idle deadline (an hour after the last activity) and the absolute one (a week).
    assert '<time datetime="2025-03-03T10:00:00+00:00">3 Mar 2025, 10:00:00 UTC</time>' in details
    assert '<time datetime="2025-03-10T09:00:00+00:00">10 Mar 2025, 09:00:00 UTC</time>' in details


def test_a_user_agent_is_shown_as_text_never_as_markup(alice):
    laptop = browser_for(alice)
    browser_for(alice, '<img src=x onerror="alert(1)">/1.0')

    content = page_of(laptop)

    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;/1.0" in content


def test_a_lone_session_gets_the_empty_state_and_no_sign_out_all(alice):
    laptop = browser_for(alice)

    content = page_of(laptop)

    assert ONLY_THIS_DEVICE in content
    assert len(rows(content)) == 1
    assert "Sign out all other sessions</a>" not in content


def test_with_other_sessions_there_is_no_empty_state(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    content = page_of(laptop)

    assert ONLY_THIS_DEVICE not in content
    assert "Sign out all other sessions</a>" in content


def test_signing_out_the_last_other_session_leaves_the_empty_state(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    response = laptop.post("/settings/security/sessions/revoke-others/", headers=HTMX)

    assert ONLY_THIS_DEVICE in response.content.decode()


@pytest.mark.parametrize("others", [0, 19])
def test_the_page_costs_the_same_queries_with_one_session_or_twenty(alice, others):
    with time_machine.travel(START, tick=False):
        laptop = browser_for(alice)
        page_of(laptop)
        with CaptureQueriesContext(connection) as alone:
            page_of(laptop)
        for _ in range(others):
            browser_for(alice, SAFARI_IPHONE)
        with CaptureQueriesContext(connection) as crowded:
            content = page_of(laptop)

    assert len(rows(content)) == others + 1
    assert len(crowded) == len(alone)


def test_the_list_alone_is_the_partial_with_htmx(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    response = laptop.get("/settings/security/sessions/", headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="session-list"')
    assert "<html" not in content
    assert len(rows(content)) == 2
    assert "no-store" in response["Cache-Control"]


def test_the_list_alone_without_htmx_is_the_page_that_holds_it(alice):
    laptop = browser_for(alice)

    response = laptop.get("/settings/security/sessions/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/#sessions-title"


def test_the_list_alone_is_for_signed_in_people_only(db):
    response = Client().get("/settings/security/sessions/", headers=HTMX)

    assert response["HX-Redirect"].startswith("/login/")


def test_stay_signed_in_with_htmx_says_so_in_a_toast(alice):
    laptop = browser_for(alice)

    response = laptop.post("/session/keepalive/", headers=HTMX)

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"message": "You will stay signed in.", "level": "success"}
    }


def test_every_action_shows_a_busy_state_and_cannot_be_sent_twice(alice):
    laptop = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)

    content = page_of(laptop)

    assert_every_action_is_busy_while_it_runs(content, at_least=3)


def test_every_owner_action_shows_a_busy_state_and_cannot_be_sent_twice(alice, bob):
    owner = browser_for(alice)
    browser_for(bob)

    response = owner.get("/account/security/")

    assert response.status_code == 200
    # The policy form and the two sign-out dialogs.
    assert_every_action_is_busy_while_it_runs(response.content.decode(), at_least=3)


def assert_every_action_is_busy_while_it_runs(content: str, at_least: int) -> None:
    forms = re.findall(r"<form [^>]*hx-post=[^>]*>.*?</form>", content, flags=re.DOTALL)
    assert len(forms) >= at_least
    for form in forms:
        assert "hx-disabled-elt=" in form
        assert "hx-sync=" in form
        assert 'class="htmx-indicator spinner"' in form


def test_the_page_asks_htmx_for_no_inline_indicator_styles(alice):
    content = page_of(browser_for(alice))

    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", content)
    assert json.loads(config.group(1))["includeIndicatorStyles"] is False
    assert content.index('name="htmx-config"') < content.index("htmx-2")
    assert '<div id="toasts" class="toasts" role="status" aria-live="polite"></div>' in content
