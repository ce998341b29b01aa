"""How a session's device reads: its label, and the kind of device for the icon."""

import pytest

from conftest import CHROME_MAC, FIREFOX_WINDOWS, PYTHON_CLIENT, SAFARI_IPHONE
from securityportal.client import parse_user_agent, product_token
from sessions.devices import (
    API_CLIENT,
    DESKTOP,
    PHONE,
    TABLET,
    UNKNOWN,
    current_first,
    device_of,
    device_type,
)
from sessions.models import Session

SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
HEADLESS_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
)
GARBAGE = [
    "\x00\x01 garbage ((",
    "()/;" * 100,
    "x" * 512,
    "Mozilla/5.0 (",
    "Firefox-less test agent",
]


def session(user_agent: str, kind: str = Session.Kind.BROWSER) -> Session:
    return Session(user_agent=user_agent, kind=kind)


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        ("acme-cli/2.3 (linux)", "acme-cli 2.3"),
        ("backup-job/3.1", "backup-job 3.1"),
        ("backup-job/3.1.4 (x86_64; build 77)", "backup-job 3.1"),
        ("  sync_agent/12 extra", "sync_agent 12"),
    ],
)
def test_an_api_client_nobody_knows_is_named_by_its_product_token(user_agent, label):
    assert device_of(session(user_agent, Session.Kind.API)).label == label


def test_mozilla_is_not_taken_for_a_product_name():
    assert product_token("Mozilla/5.0 (compatible; something)") is None


def test_a_product_name_is_bounded_however_long_the_header():
    assert product_token("a" * 300 + "/1.0") is None


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_MAC, "Chrome 131 on macOS"),
        (HEADLESS_CHROME, "HeadlessChrome 156 on Linux"),
        (PYTHON_CLIENT, "Python Requests 2"),
    ],
)
def test_a_known_client_keeps_its_parsed_name(user_agent, label):
    assert device_of(session(user_agent)).label == label


@pytest.mark.parametrize(
    ("user_agent", "kind", "expected"),
    [
        (CHROME_MAC, Session.Kind.BROWSER, DESKTOP),
        (FIREFOX_WINDOWS, Session.Kind.BROWSER, DESKTOP),
        (HEADLESS_CHROME, Session.Kind.BROWSER, DESKTOP),
        (SAFARI_IPHONE, Session.Kind.BROWSER, PHONE),
        (SAFARI_IPAD, Session.Kind.BROWSER, TABLET),
        ("acme-cli/2.3 (linux)", Session.Kind.API, API_CLIENT),
        # An API session is an API client whatever browser it claims to be.
        (SAFARI_IPHONE, Session.Kind.API, API_CLIENT),
        ("Firefox-less test agent", Session.Kind.BROWSER, UNKNOWN),
    ],
)
def test_each_session_gets_the_icon_of_its_kind_of_device(user_agent, kind, expected):
    assert device_type(user_agent, kind) == expected


@pytest.mark.parametrize("kind", [Session.Kind.BROWSER, Session.Kind.API])
def test_an_empty_user_agent_is_an_unknown_device(kind):
    device = device_of(session("", kind))

    assert device.label == "Unknown device"
    assert device.type == (API_CLIENT if kind == Session.Kind.API else UNKNOWN)


@pytest.mark.parametrize("user_agent", GARBAGE)
def test_garbage_is_an_unknown_device_not_a_crash(user_agent):
    device = device_of(session(user_agent))

    assert device.label == "Unknown device"
    assert device.type == UNKNOWN


def test_every_icon_has_words_for_screen_readers():
    for device in (DESKTOP, PHONE, TABLET, API_CLIENT, UNKNOWN):
        assert device.text


def test_a_user_agent_is_parsed_once_however_many_rows_share_it():
    parse_user_agent.cache_clear()
    unseen = HEADLESS_CHROME.replace("156.0.0.0", "157.0.0.0")

    for _ in range(20):
        device_of(session(unseen))

    assert parse_user_agent.cache_info().misses == 1


def test_the_current_session_comes_first_and_the_others_keep_their_order():
    first, second, current, last = (session(CHROME_MAC) for _ in range(4))

    ordered = current_first([first, second, current, last], current)

    assert ordered == [current, first, second, last]


def test_without_a_current_session_the_order_is_unchanged():
    sessions = [session(CHROME_MAC) for _ in range(3)]

    assert current_first(sessions, None) == sessions
