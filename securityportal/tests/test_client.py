"""Who is on the other end: the client IP behind trusted proxies, and the device label."""

import pytest
from django.test import Client, RequestFactory

from conftest import CHROME_MAC, FIREFOX_WINDOWS, PASSWORD, PYTHON_CLIENT, SAFARI_IPHONE
from securityportal.client import ClientColumns, ClientInfo, client_ip, describe_device
from sessions.models import Session

PROXY = "10.0.0.2"


def request_from(remote_addr: str = PROXY, forwarded_for: str | None = None, **meta: str):
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **meta)


# client_ip


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    request = request_from("198.51.100.7", forwarded_for="203.0.113.66")

    assert client_ip(request) == "198.51.100.7"


def test_with_one_trusted_proxy_the_last_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    request = request_from(forwarded_for="198.51.100.7")

    assert client_ip(request) == "198.51.100.7"


def test_with_one_trusted_proxy_a_spoofed_entry_changes_nothing(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 203.0.113.66"; our proxy appended what it saw.
    request = request_from(forwarded_for="203.0.113.66, 198.51.100.7")

    assert client_ip(request) == "198.51.100.7"


def test_with_two_trusted_proxies_the_second_last_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    # Spoofed entry, the client seen by the edge proxy, the edge proxy seen by the inner one.
    request = request_from(forwarded_for="203.0.113.66, 198.51.100.7, 10.0.0.1")

    assert client_ip(request) == "198.51.100.7"


def test_with_more_trusted_proxies_than_entries_remote_addr_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    request = request_from("198.51.100.9", forwarded_for="198.51.100.7")

    assert client_ip(request) == "198.51.100.9"


@pytest.mark.parametrize(
    "forwarded_for",
    ["not-an-ip", "198.51.100.7:443", "<script>", "999.1.1.1", "", " , ,"],
)
def test_garbage_x_forwarded_for_falls_back_to_remote_addr(settings, forwarded_for):
    settings.TRUSTED_PROXY_COUNT = 1

    request = request_from("198.51.100.9", forwarded_for=forwarded_for)

    assert client_ip(request) == "198.51.100.9"


def test_a_trusted_entry_is_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    request = request_from(forwarded_for="  2001:DB8:0:0::1 ")

    assert client_ip(request) == "2001:db8::1"


@pytest.mark.parametrize("proxies", [0, 1])
def test_an_ipv4_client_seen_through_ipv6_is_its_ipv4_address(settings, proxies):
    # A dual-stack listener, or a proxy, writes IPv4 clients as ::ffff:a.b.c.d: read as
    # IPv6, every IPv4 client would share one /64 of the sign-in limits.
    settings.TRUSTED_PROXY_COUNT = proxies
    request = request_from("::ffff:198.51.100.7", forwarded_for="::ffff:203.0.113.9")

    assert client_ip(request) == ("203.0.113.9" if proxies else "198.51.100.7")


def test_an_unparseable_remote_addr_gives_no_ip(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from("unix-socket")) is None


def test_client_info_caps_the_user_agent_at_the_column_size(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = request_from("198.51.100.7", HTTP_USER_AGENT="x" * 5000)

    info = ClientInfo.from_request(request)

    assert info.ip == "198.51.100.7"
    assert len(info.user_agent) == Session._meta.get_field("user_agent").max_length


# describe_device


def test_chrome_on_a_mac_is_labelled_as_such():
    assert describe_device(CHROME_MAC) == "Chrome 131 on macOS"


def test_firefox_on_windows_is_labelled_as_such():
    assert describe_device(FIREFOX_WINDOWS).startswith("Firefox 133 on Windows")


def test_an_iphone_is_named():
    label = describe_device(SAFARI_IPHONE)

    assert "iPhone" in label
    assert "Safari" in label


def test_an_empty_user_agent_is_an_unknown_device():
    assert describe_device("") == "Unknown device"


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [("curl/8.5.0", "curl"), (PYTHON_CLIENT, "Python Requests")],
)
def test_command_line_clients_get_a_readable_label(user_agent, expected):
    label = describe_device(user_agent)

    assert expected in label
    assert user_agent not in label


@pytest.mark.parametrize(
    "user_agent",
    ["x" * 512, "\x00\x01 garbage ((", "Mozilla/5.0 (", "()/;" * 100],
)
def test_nonsense_user_agents_get_a_label_not_a_crash(user_agent):
    device = stored_device(user_agent)

    assert device
    assert len(device) <= Session._meta.get_field("device").max_length


def stored_device(user_agent: str) -> str:
    return ClientColumns.columns_for(ClientInfo(ip=None, user_agent=user_agent))["device"]


def test_a_label_always_fits_the_device_column():
    # ua-parser copies a phone's model name from the user agent verbatim, and the
    # user agent is client-chosen (up to the 512 characters ClientInfo keeps).
    user_agent = (
        "Mozilla/5.0 (Linux; Android 14; Redmi " + "A" * 400 + ") AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
    )[:512]

    device = stored_device(user_agent)

    assert device.startswith("Chrome Mobile 131 on")
    assert len(device) <= Session._meta.get_field("device").max_length


def test_nul_bytes_are_dropped_from_the_user_agent():
    request = request_from(HTTP_USER_AGENT="Mozilla\x00/5.0 \x00evil")

    assert ClientInfo.from_request(request).user_agent == "Mozilla/5.0 evil"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "expected"), [(PASSWORD, (302, 200)), ("a wrong guess", (200, 401))]
)
def test_a_sign_in_with_a_nul_in_its_user_agent_is_answered_not_a_500(alice, password, expected):
    browser = Client(HTTP_USER_AGENT="Mozilla\x00evil")
    api = Client(HTTP_USER_AGENT="curl\x00/8")

    page = browser.post("/login/", {"username": "alice", "password": password})
    token = api.post(
        "/api/auth/login",
        {"username": "alice", "password": password},
        content_type="application/json",
    )

    assert (page.status_code, token.status_code) == expected
