"""Sign-in while Redis, which holds the lockout counters, cannot be reached: the
lockout is read from the sign-in trail in the database instead. No 500, no lockout
lifted, no window for guessing (a real Redis killed under a real server is in
securityportal/tests/test_outage_servers.py)."""

from datetime import timedelta

import pytest
import time_machine

from accounts.tests.test_lockout import (
    HOME_IP,
    LOCKED_OUT_PAGE,
    OTHER_IP,
    START,
    WRONG,
    api_sign_in,
    assert_api_refused,
    assert_page_refused,
    browser_sign_in,
    fail,
    reasons,
)
from conftest import PASSWORD, bearer, free_port, hung_redis_server

LOCKOUT_SECONDS = 15 * 60


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def redis_down(settings):
    """The counters' cache is a Redis nothing listens for."""
    settings.CACHES = {
        "default": {
            "BACKEND": "securityportal.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/9",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_wrong_passwords_are_answered_as_such_while_the_counters_are_down(bob):
    fail(4, sign_in=api_sign_in)

    assert api_sign_in("bob", WRONG).status_code == 401
    assert reasons(user=bob) == ["bad_credentials"] * 5


def test_the_limit_reached_locks_the_pair_out_from_the_trail(bob, clock):
    fail(5)

    assert_page_refused(browser_sign_in("bob"), LOCKED_OUT_PAGE, LOCKOUT_SECONDS)
    assert_api_refused(api_sign_in("bob"), "locked_out", LOCKOUT_SECONDS)
    assert reasons(user=bob)[-2:] == ["locked_out", "locked_out"]
    # The refusals do not extend the lockout: it ends when the last failure is
    # LOGIN_LOCKOUT_MINUTES old.
    clock.shift(timedelta(minutes=10))
    assert_api_refused(api_sign_in("bob"), "locked_out", 5 * 60)
    clock.shift(timedelta(minutes=5, seconds=1))
    assert api_sign_in("bob").status_code == 200


@pytest.mark.parametrize(
    "name", ["bob", "mallory", "Éve"], ids=["a-user", "nobody", "nobody-beyond-ascii"]
)
def test_a_name_nobody_has_is_locked_out_like_a_real_one(bob, name):
    # Locked out after five guesses or answered 401 for ever: the difference would
    # tell which names exist.
    fail(5, name, sign_in=api_sign_in)

    assert_api_refused(api_sign_in(name, WRONG), "locked_out", LOCKOUT_SECONDS)
    assert api_sign_in(name, WRONG, ip=OTHER_IP).status_code == 401


def test_the_lockout_from_the_trail_holds_for_that_ip_only(bob):
    fail(5, sign_in=api_sign_in)

    assert api_sign_in("bob", ip=OTHER_IP).status_code == 200
    assert api_sign_in("bob", ip=HOME_IP).status_code == 429


def test_a_successful_sign_in_forgives_the_earlier_typos(bob):
    fail(4)
    assert browser_sign_in("bob").status_code == 302

    fail(4)

    assert browser_sign_in("bob").status_code == 302


def test_failures_older_than_the_lockout_window_are_not_counted(bob, clock):
    fail(4)
    clock.shift(timedelta(minutes=15, seconds=1))
    fail(1)

    assert api_sign_in("bob", PASSWORD).status_code == 200


def test_a_hung_redis_is_waited_on_by_one_attempt_and_the_lockout_still_holds(bob, settings):
    # A Redis that takes connections and never answers costs each wait its socket
    # timeout; a burst of guesses must not make every sign-in pay it.
    with hung_redis_server() as (hung_cache, taken):
        settings.CACHES = {"default": hung_cache}

        fail(5, sign_in=api_sign_in)

        assert_api_refused(api_sign_in("bob"), "locked_out", LOCKOUT_SECONDS)
        assert len(taken) == 1


def test_guesses_from_inside_a_stolen_session_count_towards_the_lockout_too(bob, clock):
    thief = bearer(api_sign_in("bob").json()["access"])

    def guess(password: str):
        return thief.put(
            "/api/auth/password",
            {"current_password": password, "new_password": "a thief's new passphrase"},
            content_type="application/json",
            REMOTE_ADDR=HOME_IP,
        )

    clock.shift(timedelta(seconds=1))
    for _ in range(5):
        assert guess(WRONG).status_code == 400

    # Five wrong guesses at the password, wherever they were typed, lock the pair
    # out: of signing in and of guessing again.
    assert_api_refused(api_sign_in("bob"), "locked_out", LOCKOUT_SECONDS)
    assert guess(PASSWORD).status_code == 429
    assert api_sign_in("bob", ip=OTHER_IP).status_code == 200
