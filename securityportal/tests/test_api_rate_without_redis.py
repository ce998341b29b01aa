"""The per-user API rate while Redis, which holds its counters, cannot be reached: the
caller is signed in (checked against the database), so the rate is waived rather than
every call answered 500, and a Redis that hangs is waited on once, not by every call."""

import pytest

from conftest import api_login, bearer, hung_redis_server

pytestmark = pytest.mark.django_db


def test_with_a_hung_redis_session_calls_are_answered_and_wait_on_it_once(alice, settings):
    client = bearer(api_login(alice)["access"])

    with hung_redis_server() as (hung_cache, taken):
        settings.CACHES = {**settings.CACHES, "default": hung_cache}
        answers = [client.get("/api/auth/sessions") for _ in range(3)]

        assert [answer.status_code for answer in answers] == [200, 200, 200]
        # Waived, so not reported either.
        assert all("X-RateLimit-Limit" not in answer for answer in answers)
        assert len(taken) == 1
