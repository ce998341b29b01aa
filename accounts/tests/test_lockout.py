"""The sign-in lockout and rate limits (SPEC §7): one username from one IP is locked
after LOGIN_FAILURE_LIMIT failures, one username across every IP after
LOGIN_ACCOUNT_FAILURES_PER_HOUR, one IP after LOGIN_RATE_PER_IP attempts. The browser
and the API share every counter, and a refused attempt never reaches the hasher.
Time moves only through time_machine, so every window is exact."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client

from accounts import lockout
from audit.models import LoginEvent
from conftest import CHROME_MAC, PASSWORD, PYTHON_CLIENT, PasswordHashes, full_width
from sessions.models import Session

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOME_IP = "198.51.100.7"
OTHER_IP = "203.0.113.9"
PROXY_IP = "10.0.0.2"
WRONG = "not the password at all"
INVALID_LOGIN = "The username or password is incorrect."
LOCKED_OUT_PAGE = "Too many failed attempts. Try again in 15 minutes."
LOCKED_FOR_AN_HOUR_PAGE = "Too many failed attempts. Try again in 60 minutes."
RATE_LIMITED_PAGE = "Too many sign-in attempts from your network. Try again in 1 minute."


@pytest.fixture(autouse=True)
def clock():
    """Time stands still unless a test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def browser_sign_in(identifier: str, password: str = PASSWORD, ip: str = HOME_IP, **headers):
    return Client(HTTP_USER_AGENT=CHROME_MAC).post(
        "/login/", {"username": identifier, "password": password}, REMOTE_ADDR=ip, **headers
    )


def api_sign_in(identifier: str, password: str = PASSWORD, ip: str = HOME_IP, **headers):
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/login",
        {"username": identifier, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
        **headers,
    )


def fail(times: int, identifier: str = "bob", ip: str = HOME_IP, sign_in=browser_sign_in) -> None:
    """``times`` wrong passwords, each answered as an ordinary wrong password."""
    for _ in range(times):
        response = sign_in(identifier, WRONG, ip=ip)
        assert response.status_code in (200, 401), response.content
        assert "Retry-After" not in response


def assert_page_refused(response, message: str, retry_after: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    assert message in response.content.decode()


def assert_api_refused(response, code: str, retry_after: int) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    assert body["detail"]
    assert response["Retry-After"] == str(retry_after)


def reasons(**filters: object) -> list[str]:
    events = LoginEvent.objects.filter(**filters).order_by("id")
    return [event.failure_reason for event in events]


# One username from one IP


def test_the_sixth_failure_from_one_ip_is_locked_out(bob):
    fail(5)

    response = browser_sign_in("bob", WRONG)

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert not Session.objects.exists()
    assert reasons(user=bob, ip=HOME_IP) == ["bad_credentials"] * 5 + ["locked_out"]


def test_five_failures_are_still_answered_as_wrong_passwords(bob):
    for _ in range(4):
        browser_sign_in("bob", WRONG)

    response = browser_sign_in("bob", WRONG)

    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()
    assert "Try again" not in response.content.decode()


def test_the_api_answers_the_sixth_failure_with_429_locked_out_and_retry_after(bob):
    fail(5, sign_in=api_sign_in)

    response = api_sign_in("bob", WRONG)

    assert_api_refused(response, "locked_out", 900)
    assert not Session.objects.exists()
    assert reasons(user=bob, channel="api") == ["bad_credentials"] * 5 + ["locked_out"]


@pytest.mark.parametrize("password", [WRONG, PASSWORD], ids=["wrong", "correct"])
@pytest.mark.parametrize("sign_in", [browser_sign_in, api_sign_in], ids=["browser", "api"])
def test_a_locked_out_attempt_hashes_no_password(bob, monkeypatch, sign_in, password):
    fail(5)
    hashes = PasswordHashes(monkeypatch)

    response = sign_in("bob", password)

    assert response.status_code == 429
    assert hashes.count == 0
    assert not Session.objects.exists()
    assert LoginEvent.objects.latest("id").failure_reason == "locked_out"


def test_the_right_password_while_locked_out_is_still_refused(bob):
    fail(5)

    response = browser_sign_in("bob", PASSWORD)

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert not Session.objects.exists()
    assert not LoginEvent.objects.filter(success=True).exists()
    assert reasons(user=bob)[-1] == "locked_out"


def test_the_same_username_from_another_ip_still_signs_in(bob):
    fail(5)

    response = browser_sign_in("bob", ip=OTHER_IP)

    assert response.status_code == 302
    assert Session.objects.get().ip == OTHER_IP
    assert LoginEvent.objects.filter(user=bob, success=True, ip=OTHER_IP).count() == 1


def test_another_username_from_the_locked_out_ip_still_signs_in(alice, bob):
    fail(5)

    response = browser_sign_in("alice")

    assert response.status_code == 302
    assert Session.objects.get().user == alice
    assert LoginEvent.objects.filter(user=alice, success=True, ip=HOME_IP).count() == 1


def test_the_username_in_any_case_and_its_email_share_one_counter(bob):
    fail(2, "bob")
    fail(2, "BOB")
    fail(1, "Bob@ACME.example")

    response = browser_sign_in("bob@acme.example", PASSWORD)

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert not Session.objects.exists()
    typed = list(LoginEvent.objects.order_by("id").values_list("username", "failure_reason"))
    assert typed == [
        ("bob", "bad_credentials"),
        ("bob", "bad_credentials"),
        ("BOB", "bad_credentials"),
        ("BOB", "bad_credentials"),
        ("Bob@ACME.example", "bad_credentials"),
        ("bob@acme.example", "locked_out"),
    ]
    assert set(LoginEvent.objects.values_list("user", flat=True)) == {bob.pk}


def test_a_name_typed_in_full_width_letters_shares_the_counter_of_its_plain_spelling(db):
    # Typed through an input method, the full-width name is "mallory" (NFKC, as
    # Django normalises usernames): guesses cannot be spread over spellings of a name.
    fail(3, full_width("mallory"))
    fail(2, "mallory")

    response = browser_sign_in(full_width("mallory"), WRONG)

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)


def test_the_browser_and_the_api_share_one_counter(bob):
    fail(3, sign_in=browser_sign_in)
    fail(2, sign_in=api_sign_in)

    from_the_api = api_sign_in("bob")
    from_the_browser = browser_sign_in("bob")

    assert_api_refused(from_the_api, "locked_out", 900)
    assert_page_refused(from_the_browser, LOCKED_OUT_PAGE, 900)
    assert not Session.objects.exists()
    channels = list(LoginEvent.objects.order_by("id").values_list("channel", "failure_reason"))
    assert channels == [("browser", "bad_credentials")] * 3 + [("api", "bad_credentials")] * 2 + [
        ("api", "locked_out"),
        ("browser", "locked_out"),
    ]


def test_a_rotating_x_forwarded_for_does_not_reset_the_counter(bob):
    for n in range(5):
        browser_sign_in("bob", WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = browser_sign_in("bob", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert not Session.objects.exists()
    assert set(LoginEvent.objects.values_list("ip", flat=True)) == {HOME_IP}


def test_behind_a_trusted_proxy_the_counter_follows_the_address_the_proxy_vouches_for(
    settings, bob
):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; whatever the client wrote is to its left.
    for n in range(5):
        browser_sign_in("bob", WRONG, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {HOME_IP}")

    spoofing = browser_sign_in(
        "bob", PASSWORD, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HOME_IP}"
    )
    another_client = browser_sign_in(
        "bob", PASSWORD, ip=PROXY_IP, HTTP_X_FORWARDED_FOR=f"{HOME_IP}, {OTHER_IP}"
    )

    assert_page_refused(spoofing, LOCKED_OUT_PAGE, 900)
    assert another_client.status_code == 302
    assert Session.objects.get().ip == OTHER_IP
    assert reasons(ip=HOME_IP) == ["bad_credentials"] * 5 + ["locked_out"]
    assert LoginEvent.objects.get(success=True).ip == OTHER_IP


# How long it lasts, and what ends it


def test_the_lockout_ends_after_login_lockout_minutes(clock, bob):
    fail(5)
    clock.shift(timedelta(minutes=14, seconds=59))

    almost = browser_sign_in("bob", PASSWORD)
    clock.shift(timedelta(seconds=1))
    after = browser_sign_in("bob", PASSWORD)

    assert_page_refused(almost, "Try again in 1 minute.", 1)
    assert after.status_code == 302
    assert Session.objects.get().user == bob
    assert reasons(user=bob) == ["bad_credentials"] * 5 + ["locked_out", ""]


def test_the_lockout_length_and_limit_are_settings(settings, clock, bob):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_MINUTES = 30
    fail(2)

    locked = browser_sign_in("bob", PASSWORD)
    clock.shift(timedelta(minutes=30))
    after = browser_sign_in("bob", PASSWORD)

    assert_page_refused(locked, "Too many failed attempts. Try again in 30 minutes.", 1800)
    assert after.status_code == 302
    assert reasons(user=bob) == ["bad_credentials"] * 2 + ["locked_out", ""]


def test_a_new_lockout_needs_a_full_set_of_new_failures(clock, bob):
    fail(5)
    clock.shift(timedelta(minutes=15))
    fail(4)

    response = browser_sign_in("bob", PASSWORD)

    assert response.status_code == 302


def test_five_failures_within_any_fifteen_minutes_lock_the_pair(clock, bob):
    # Not fifteen minutes from the first failure: the two at 14:50 and the three at
    # 16:30 are five within fifteen minutes, though the first failure's fifteen
    # minutes ended in between.
    fail(1)
    clock.shift(timedelta(minutes=14, seconds=50))
    fail(2)
    clock.shift(timedelta(minutes=1, seconds=40))
    fail(3)

    response = browser_sign_in("bob", PASSWORD)

    assert_page_refused(response, "Try again in 15 minutes.", 900)


def test_failures_further_apart_than_the_window_do_not_add_up(clock, bob):
    fail(4)
    clock.shift(timedelta(minutes=17))
    fail(4)

    response = browser_sign_in("bob", PASSWORD)

    assert response.status_code == 302


def test_a_successful_sign_in_forgives_earlier_typos_from_that_ip(bob):
    fail(4)
    assert browser_sign_in("bob").status_code == 302
    fail(4)

    response = browser_sign_in("bob")

    assert response.status_code == 302
    assert Session.objects.filter(user=bob).count() == 2
    assert reasons(user=bob) == ["bad_credentials"] * 4 + [""] + ["bad_credentials"] * 4 + [""]


# Unknown usernames


def test_unknown_usernames_are_locked_exactly_like_known_ones(bob):
    fail(5, "bob", sign_in=api_sign_in)
    fail(5, "mallory", sign_in=api_sign_in)

    known = api_sign_in("bob", WRONG)
    unknown = api_sign_in("MALLORY", WRONG)

    assert_api_refused(known, "locked_out", 900)
    assert_api_refused(unknown, "locked_out", 900)
    assert unknown.json() == known.json()
    assert reasons(username__iexact="mallory") == ["bad_credentials"] * 5 + ["locked_out"]
    assert not LoginEvent.objects.filter(username__iexact="mallory", user__isnull=False).exists()


def test_an_unknown_username_is_locked_out_in_the_browser_too(db):
    fail(5, "mallory@nowhere.example")

    response = browser_sign_in("Mallory@Nowhere.example", WRONG)

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert reasons(user=None) == ["bad_credentials"] * 5 + ["locked_out"]


# One username across many IPs


def test_one_username_is_capped_across_many_ips(settings, bob):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 3
    for n in range(3):
        fail(1, "bob", ip=f"192.0.2.{n}")

    from_the_browser = browser_sign_in("bob", PASSWORD, ip=OTHER_IP)
    from_the_api = api_sign_in("BOB", PASSWORD, ip=HOME_IP)

    assert_page_refused(from_the_browser, LOCKED_FOR_AN_HOUR_PAGE, 3600)
    assert_api_refused(from_the_api, "locked_out", 3600)
    assert not Session.objects.exists()
    assert reasons(user=bob) == ["bad_credentials"] * 3 + ["locked_out"] * 2


def test_the_account_cap_leaves_other_usernames_alone(settings, alice, bob):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 3
    for n in range(3):
        fail(1, "bob", ip=f"192.0.2.{n}")

    response = browser_sign_in("alice", ip="192.0.2.0")

    assert response.status_code == 302
    assert Session.objects.get().user == alice


def test_the_account_cap_ends_after_an_hour(settings, clock, bob):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 3
    for n in range(3):
        fail(1, "bob", ip=f"192.0.2.{n}")
    clock.shift(timedelta(minutes=59, seconds=59))
    assert browser_sign_in("bob", ip=OTHER_IP).status_code == 429
    clock.shift(timedelta(seconds=1))

    response = browser_sign_in("bob", ip=OTHER_IP)

    assert response.status_code == 302
    assert Session.objects.get().user == bob


# All attempts from one IP


@pytest.fixture
def three_a_minute(settings):
    settings.LOGIN_RATE_PER_IP = (3, 60)


def test_the_api_refuses_the_fourth_attempt_from_one_ip_as_rate_limited(
    three_a_minute, monkeypatch, alice, bob, carol
):
    assert api_sign_in("alice").status_code == 200
    assert api_sign_in("bob", WRONG).status_code == 401
    assert api_sign_in("mallory", WRONG).status_code == 401
    hashes = PasswordHashes(monkeypatch)

    response = api_sign_in("carol")

    assert_api_refused(response, "rate_limited", 60)
    assert hashes.count == 0
    assert not Session.objects.filter(user=carol).exists()
    assert reasons(user=carol) == ["rate_limited"]


def test_the_browser_refuses_the_fourth_attempt_from_one_ip_with_a_message(
    three_a_minute, alice, bob, carol
):
    assert browser_sign_in("alice").status_code == 302
    fail(2, "bob")

    response = browser_sign_in("carol")

    assert_page_refused(response, RATE_LIMITED_PAGE, 60)
    assert not Session.objects.filter(user=carol).exists()
    event = LoginEvent.objects.get(user=carol)
    assert (event.channel, event.failure_reason) == ("browser", "rate_limited")


def test_the_rate_limit_leaves_other_ips_alone(three_a_minute, bob, carol):
    fail(3, "bob")
    assert api_sign_in("carol").status_code == 429

    from_another_ip = api_sign_in("carol", ip=OTHER_IP)

    assert from_another_ip.status_code == 200
    assert Session.objects.get().user == carol


def test_an_ipv6_network_counts_as_one_address(three_a_minute, alice, bob):
    # One host holds a whole /64: counted by its address alone, it could send each
    # guess from another of its 2**64 and never be limited or locked out.
    fail(3, "bob", ip="2001:db8:1:2::1")

    rate_limited = api_sign_in("alice", ip="2001:db8:1:2:ffff::9")
    next_network = api_sign_in("alice", ip="2001:db8:1:3::1")

    assert_api_refused(rate_limited, "rate_limited", 60)
    assert next_network.status_code == 200


def test_guesses_spread_over_an_ipv6_network_lock_that_network_out(bob):
    for host in range(1, 6):
        fail(1, "bob", ip=f"2001:db8:1:2::{host}")

    response = browser_sign_in("bob", ip="2001:db8:1:2::99")
    elsewhere = browser_sign_in("bob", ip="2001:db8:1:3::1")

    assert_page_refused(response, LOCKED_OUT_PAGE, 900)
    assert elsewhere.status_code == 302


def test_the_rate_limit_counts_browser_and_api_attempts_together(three_a_minute, bob, carol):
    fail(2, "bob", sign_in=browser_sign_in)
    fail(1, "bob", sign_in=api_sign_in)

    response = browser_sign_in("carol")

    assert_page_refused(response, RATE_LIMITED_PAGE, 60)


def test_the_rate_limit_ignores_a_spoofed_x_forwarded_for(three_a_minute, bob, carol):
    for n in range(3):
        browser_sign_in("bob", WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = api_sign_in("carol", HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert_api_refused(response, "rate_limited", 60)


def test_the_rate_limit_window_ends(three_a_minute, clock, bob, carol):
    fail(3, "bob")
    assert api_sign_in("carol").status_code == 429
    clock.shift(timedelta(seconds=60))

    response = api_sign_in("carol")

    assert response.status_code == 200
    assert reasons(user=carol) == ["rate_limited", ""]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit_checked(bob, monkeypatch):
    hashes = PasswordHashes(monkeypatch)
    guesses = 12
    start = threading.Barrier(guesses)

    def guess(number: int) -> int:
        start.wait(timeout=30)
        try:
            return api_sign_in("bob", f"wrong guess {number}").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = sorted(pool.map(guess, range(guesses)))

    assert statuses == [401] * 5 + [429] * 7
    assert hashes.count == 5
    assert reasons(success=False).count("locked_out") == 7


def test_signing_in_correctly_never_counts_towards_the_hourly_cap(settings, bob):
    # Each attempt is counted up front (before its password is hashed); a success
    # takes its count back, or a user would be locked out by signing in.
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 3

    answers = [api_sign_in("bob", ip=f"198.51.100.{n}").status_code for n in range(5)]

    assert answers == [200] * 5


def test_guesses_admitted_before_any_is_recorded_meet_the_pairs_limit(settings, db):
    # A burst of parallel guesses is admitted before the first is answered: each is
    # counted as it is admitted, so the one past the limit is refused unhashed.
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        lockout.admit(lockout.Attempt(username="bob", ip=HOME_IP))

    with pytest.raises(lockout.SignInRefused) as refused:
        lockout.admit(lockout.Attempt(username="bob", ip=HOME_IP))

    assert refused.value.reason == lockout.SignInRefused.LOCKED_OUT


def test_guesses_admitted_before_any_is_recorded_meet_the_hourly_cap(settings, db):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 3
    for n in range(3):
        lockout.admit(lockout.Attempt(username="bob", ip=f"198.51.100.{n}"))

    with pytest.raises(lockout.SignInRefused) as refused:
        lockout.admit(lockout.Attempt(username="bob", ip="203.0.113.200"))

    assert refused.value.reason == lockout.SignInRefused.LOCKED_OUT
    assert refused.value.retry_after == 3600
