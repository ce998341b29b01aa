"""SESSION_API_RATE: one signed-in user's requests to the session-management endpoints
are rate limited, per user; sign-in is limited per IP (LOGIN_RATE_PER_IP). Every answer
counted against either rate says where the caller stands in X-RateLimit-Limit,
-Remaining and -Reset."""

import uuid

import pytest
import time_machine
from django.core import checks
from django.test import Client

from conftest import PASSWORD, PYTHON_CLIENT, api_login, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    settings.SESSION_API_RATE = (3, 60)


def test_the_request_over_the_rate_is_refused_with_retry_after(alice, three_a_minute):
    with time_machine.travel("2026-01-05 10:00:30Z", tick=False):
        client = bearer(api_login(alice)["access"])
        answers = [client.get("/api/auth/sessions") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"]
    assert refused["Retry-After"] == "30"


def test_every_session_management_endpoint_of_the_user_counts_against_one_rate(
    alice, three_a_minute
):
    client = bearer(api_login(alice)["access"])
    client.get("/api/auth/sessions")
    client.put("/api/auth/password", "[]", content_type="application/json")
    client.get("/api/accounts/me/security")

    response = client.post("/api/auth/sessions/revoke-others")

    assert response.status_code == 429


# Each session-management endpoint, with a request it would otherwise carry out (or
# refuse with a 4xx of its own).
SESSION_MANAGEMENT = [
    ("get", "/api/auth/sessions", None),
    ("delete", f"/api/auth/sessions/{uuid.UUID(int=1)}", None),
    ("post", "/api/auth/sessions/revoke-others", None),
    ("post", "/api/auth/logout", None),
    ("put", "/api/auth/password", {"current_password": PASSWORD, "new_password": "x" * 20}),
    ("get", "/api/accounts/me/security", None),
    ("patch", "/api/accounts/me/security", {"idle_minutes": 30}),
    ("post", "/api/accounts/me/security/revoke-sessions", {"scope": "others"}),
]


@pytest.mark.parametrize(("method", "path", "body"), SESSION_MANAGEMENT)
def test_a_session_management_endpoint_is_refused_once_the_user_is_over_the_rate(
    alice, three_a_minute, method, path, body
):
    client = bearer(api_login(alice)["access"])
    for _ in range(3):
        client.get("/api/auth/sessions")

    response = getattr(client, method)(path, body, content_type="application/json")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/auth/login-events"])
def test_who_am_i_and_the_sign_in_history_are_not_throttled_by_the_session_rate(
    alice, three_a_minute, path
):
    client = bearer(api_login(alice)["access"])

    answers = [client.get(path) for _ in range(10)]

    assert [answer.status_code for answer in answers] == [200] * 10
    assert "X-RateLimit-Limit" not in answers[-1]
    # Nor did they use up any of the session-management rate.
    assert rate_headers(client.get("/api/auth/sessions"))[:2] == ("3", "2")


def test_another_user_is_not_slowed_by_the_first(alice, bob, three_a_minute):
    alices = bearer(api_login(alice)["access"])
    for _ in range(4):
        alices.get("/api/auth/sessions")

    response = bearer(api_login(bob)["access"]).get("/api/auth/sessions")

    assert response.status_code == 200


def test_the_rate_starts_again_in_the_next_window(alice, three_a_minute):
    with time_machine.travel("2026-01-05 10:00:00Z", tick=False) as clock:
        client = bearer(api_login(alice)["access"])
        for _ in range(4):
            client.get("/api/auth/sessions")
        clock.shift(60)

        response = client.get("/api/auth/sessions")

    assert response.status_code == 200


def test_sign_in_does_not_count_against_the_users_rate(alice, three_a_minute):
    sessions = {api_login(alice)["session"]["id"] for _ in range(4)}

    assert len(sessions) == 4


def rate_headers(response) -> tuple[str, str, str]:
    return (
        response["X-RateLimit-Limit"],
        response["X-RateLimit-Remaining"],
        response["X-RateLimit-Reset"],
    )


def test_every_answer_says_how_many_requests_are_left_and_when_the_window_resets(
    alice, three_a_minute
):
    with time_machine.travel("2026-01-05 10:00:40Z", tick=False):
        client = bearer(api_login(alice)["access"])
        answers = [client.get("/api/auth/sessions") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [rate_headers(answer) for answer in answers] == [
        ("3", "2", "20"),
        ("3", "1", "20"),
        ("3", "0", "20"),
    ]


def test_the_refusal_carries_retry_after_and_the_rate_headers(alice, three_a_minute):
    with time_machine.travel("2026-01-05 10:00:45Z", tick=False):
        client = bearer(api_login(alice)["access"])
        for _ in range(3):
            client.get("/api/auth/sessions")

        refused = client.get("/api/auth/sessions")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "15"
    assert rate_headers(refused) == ("3", "0", "15")


def test_error_answers_to_a_signed_in_user_carry_the_rate_headers(alice, three_a_minute):
    client = bearer(api_login(alice)["access"])

    not_found = client.delete(f"/api/auth/sessions/{uuid.uuid4()}")
    bad_body = client.put("/api/auth/password", "[]", content_type="application/json")

    assert not_found.status_code == 404
    assert bad_body.status_code == 400
    assert rate_headers(not_found)[:2] == ("3", "2")
    assert rate_headers(bad_body)[:2] == ("3", "1")


def test_an_answer_to_no_user_counts_nothing_and_carries_no_rate(db, three_a_minute):
    response = bearer("not-a-token").get("/api/auth/sessions")

    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response


def api_sign_in(password: str = PASSWORD, ip: str = "198.51.100.7", **body: str):
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/login",
        body or {"username": "alice", "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def three_sign_ins_a_minute(settings):
    settings.LOGIN_RATE_PER_IP = (3, 60)


def test_sign_in_answers_carry_the_per_ip_sign_in_rate(alice, three_sign_ins_a_minute):
    with time_machine.travel("2026-01-05 10:00:10Z", tick=False):
        signed_in = api_sign_in()
        wrong_password = api_sign_in("not the password at all")
        malformed = api_sign_in(username="alice")
        last = api_sign_in()
        refused = api_sign_in()

    assert [signed_in.status_code, wrong_password.status_code, malformed.status_code] == [
        200,
        401,
        400,
    ]
    assert rate_headers(signed_in) == ("3", "2", "50")
    assert rate_headers(wrong_password) == ("3", "1", "50")
    # A body that names no password is refused before it is an attempt: not counted.
    assert rate_headers(malformed) == ("3", "1", "50")
    assert last.status_code == 200
    assert rate_headers(last) == ("3", "0", "50")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "50"
    assert rate_headers(refused) == ("3", "0", "50")


def test_the_sign_in_rate_headers_are_per_ip(alice, three_sign_ins_a_minute):
    api_sign_in(ip="198.51.100.7")
    api_sign_in(ip="198.51.100.7")

    response = api_sign_in(ip="203.0.113.9")

    assert rate_headers(response)[:2] == ("3", "2")


def test_deploy_checks_warn_when_counters_live_in_process_memory(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Several server processes, each with its own counters.
    monkeypatch.setenv("WEB_CONCURRENCY", "4")

    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])

    assert "securityportal.W001" in {message.id for message in found}


def test_deploy_checks_are_quiet_about_counters_with_redis(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    }

    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])

    assert "securityportal.W001" not in {message.id for message in found}
