"""A database that cannot be reached is an outage, not a bug: a real server answers
503 with Retry-After, the friendly page for browsers and JSON under /api/, whether
the failing query was a view's, the session middleware's or the API's token check."""

import json
import uuid
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from conftest import PYTHON_CLIENT
from securityportal.tests.unreachable_database import (
    SESSION_COOKIES,
    csrf_pair,
    fetch,
    portal_without_database,
)
from sessions.models import Session
from sessions.tokens import issue_access_token


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    log = tmp_path_factory.mktemp("unreachable") / "server.log"
    with portal_without_database(log) as host:
        yield host


def test_a_signed_in_page_is_the_503_page_with_retry_after(portal):
    response, page = fetch(portal, "GET", "/settings/security/", Cookie=SESSION_COOKIES)

    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert response.getheader("Content-Type").startswith("text/html")
    assert '<header class="site-header">' in page
    assert "Security Portal is briefly unavailable" in page
    assert "no-store" in response.getheader("Cache-Control")


def test_signing_in_is_the_503_page(portal):
    cookie, token = csrf_pair(portal)
    form = urlencode({"csrfmiddlewaretoken": token, "username": "alice", "password": "x" * 12})

    response, page = fetch(
        portal,
        "POST",
        "/login/",
        form,
        Cookie=cookie,
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert "Security Portal is briefly unavailable" in page


def test_an_api_request_whose_session_cannot_be_read_is_a_503_json(portal):
    # A well-signed token (the server runs under the tests' key) of a session whose
    # row the server then fails to read.
    session = Session(pk=uuid.uuid4(), user_id=1)
    access, _ = issue_access_token(session, timezone.now())

    response, body = fetch(portal, "GET", "/api/auth/me", Authorization=f"Bearer {access}")

    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body)["code"] == "service_unavailable"


def test_an_api_sign_in_is_a_503_json(portal):
    response, body = fetch(
        portal,
        "POST",
        "/api/auth/login",
        json.dumps({"username": "alice", "password": "x" * 12}),
        **{"Content-Type": "application/json", "User-Agent": PYTHON_CLIENT},
    )

    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert json.loads(body)["code"] == "service_unavailable"
