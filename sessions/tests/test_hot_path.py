"""What a signed-in request costs the database: one statement reads the session with its
user and account, and nothing is written while ``last_seen_at`` is fresh (SPEC §4
rule 3). The pages' own lists are their only other statements."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import api_login, bearer, browser_for

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


def assert_reads_session_with_user_and_account(sql: str) -> None:
    assert sql.lstrip().upper().startswith("SELECT")
    for table in ("user_sessions_session", "accounts_user", "accounts_account"):
        assert table in sql


@pytest.mark.parametrize("path", ["/session/status/", "/logout/"])
def test_a_signed_in_browser_request_reads_the_session_once_and_writes_nothing(
    alice, path, django_assert_max_num_queries
):
    browser = browser_for(alice)

    with django_assert_max_num_queries(1) as queries:
        response = browser.get(path)

    assert response.status_code == 200
    [query] = queries.captured_queries
    assert_reads_session_with_user_and_account(query["sql"])


def test_the_security_page_reads_the_session_once_and_then_only_its_lists(alice):
    browser = browser_for(alice)

    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/settings/security/")

    assert response.status_code == 200
    # The session with its user and account, the Active sessions card's list, the
    # sign-in chart's counts per day and the Recent activity card's page of sign-ins.
    validation, sessions_list, chart, activity = (q["sql"] for q in queries.captured_queries)
    assert_reads_session_with_user_and_account(validation)
    assert "user_sessions_session" in sessions_list
    assert "audit_loginevent" in chart and "GROUP BY" in chart
    assert "audit_loginevent" in activity
    assert writes(queries) == []


def test_an_api_call_reads_the_session_once_and_writes_nothing(alice):
    client = bearer(api_login(alice)["access"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/auth/me")

    assert response.status_code == 200
    [query] = queries.captured_queries
    assert_reads_session_with_user_and_account(query["sql"])


def test_an_api_call_sent_with_a_browser_cookie_reads_only_the_tokens_session(alice):
    # Swagger UI's "Try it out" in a signed-in tab sends the cookie along; the API
    # signs in by bearer token alone, so the cookie's session is not read.
    browser = browser_for(alice)
    token = api_login(alice)["access"]

    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    [query] = queries.captured_queries
    assert_reads_session_with_user_and_account(query["sql"])
    assert writes(queries) == []


def test_the_api_session_list_reads_the_session_once_and_then_its_list(alice):
    client = bearer(api_login(alice)["access"])

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/auth/sessions")

    assert response.status_code == 200
    validation, sessions_list = (q["sql"] for q in queries.captured_queries)
    assert_reads_session_with_user_and_account(validation)
    assert "user_sessions_session" in sessions_list
    assert writes(queries) == []


@pytest.mark.parametrize("path", ["/settings/security/", "/api/auth/me"])
def test_a_session_idle_for_a_minute_is_written_once_then_not_again(alice, path):
    client = bearer(api_login(alice)["access"]) if path.startswith("/api/") else browser_for(alice)

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        with CaptureQueriesContext(connection) as first:
            assert client.get(path).status_code == 200
        with CaptureQueriesContext(connection) as second:
            assert client.get(path).status_code == 200

    [write] = writes(first)
    assert write.lstrip().upper().startswith("UPDATE")
    assert "last_seen_at" in write
    assert writes(second) == []


def test_me_answers_the_user_and_their_account(alice):
    response = bearer(api_login(alice)["access"]).get("/api/auth/me")

    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@acme.example",
        "first_name": "",
        "last_name": "",
        "role": "owner",
        "account": {"id": alice.account_id, "name": "Acme"},
    }
