"""SESSION_API_RATE: one signed-in user's API requests are rate limited, per user."""

import pytest
import time_machine
from django.core import checks

from conftest import api_login, bearer

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


def test_every_endpoint_of_the_user_counts_against_one_rate(alice, three_a_minute):
    client = bearer(api_login(alice)["access"])
    client.get("/api/auth/me")
    client.get("/api/auth/login-events")
    client.get("/api/auth/sessions")

    response = client.post("/api/auth/sessions/revoke-others")

    assert response.status_code == 429


def test_another_user_is_not_slowed_by_the_first(alice, bob, three_a_minute):
    alices = bearer(api_login(alice)["access"])
    for _ in range(4):
        alices.get("/api/auth/me")

    response = bearer(api_login(bob)["access"]).get("/api/auth/me")

    assert response.status_code == 200


def test_the_rate_starts_again_in_the_next_window(alice, three_a_minute):
    with time_machine.travel("2026-01-05 10:00:00Z", tick=False) as clock:
        client = bearer(api_login(alice)["access"])
        for _ in range(4):
            client.get("/api/auth/me")
        clock.shift(60)

        response = client.get("/api/auth/me")

    assert response.status_code == 200


def test_sign_in_does_not_count_against_the_users_rate(alice, three_a_minute):
    sessions = {api_login(alice)["session"]["id"] for _ in range(4)}

    assert len(sessions) == 4


def test_deploy_checks_warn_when_counters_live_in_process_memory(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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
