"""One error shape for the whole API, whatever refuses the request: ``{detail, code}``
(plus ``fields`` for field errors), JSON, never an HTML page."""

import pytest
from django.test import Client

from audit.models import LoginEvent
from conftest import api_login, bearer
from sessions.models import Session

pytestmark = pytest.mark.django_db


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    # A refusal is no more for a shared cache to keep than an answer is.
    assert response["Cache-Control"] == "no-store, private"
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_a_body_over_the_limit_is_413_json_and_changes_nothing(alice):
    client = bearer(api_login(alice)["access"])
    api_login(alice)

    response = client.post(
        "/api/auth/sessions/revoke-others",
        '{"x": "' + "a" * 70_000 + '"}',
        content_type="application/json",
    )

    assert_api_error(response, 413, "request_too_large")
    assert not Session.objects.filter(revoked_at__isnull=False).exists()


def test_a_bad_content_length_is_a_400_json():
    response = Client().post(
        "/api/auth/login", "{}", content_type="application/json", CONTENT_LENGTH="many"
    )

    assert_api_error(response, 400, "bad_request")


def test_a_trailing_slash_answers_404_naming_the_right_path(alice):
    response = bearer(api_login(alice)["access"]).get("/api/auth/me/")

    body = assert_api_error(response, 404, "not_found")
    assert body["detail"] == "Not found. The path has no trailing slash: /api/auth/me"


def test_an_unknown_api_path_is_a_plain_404_json():
    body = assert_api_error(Client().get("/api/nothing/here/"), 404, "not_found")

    assert body["detail"] == "Not found."


def test_a_bad_host_header_is_a_400_json_under_the_api():
    response = Client().get("/api/auth/me", HTTP_HOST="evil.example")

    assert_api_error(response, 400, "bad_request")


def test_a_bad_host_header_is_still_a_page_outside_the_api():
    response = Client().get("/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert "application/json" not in response["Content-Type"]


def test_a_refused_token_is_a_401_with_the_bearer_challenge_and_the_reason(alice):
    response = bearer("not-a-token").get("/api/auth/me")

    body = assert_api_error(response, 401, "token_invalid")
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", error_description="' + body["detail"] + '"'
    )


def test_no_token_at_all_is_a_401_with_a_plain_bearer_challenge():
    response = Client().get("/api/auth/me")

    assert_api_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_field_errors_name_their_fields(alice):
    response = Client().post("/api/auth/login", {}, content_type="application/json")

    body = assert_api_error(response, 400, "required")
    assert set(body["fields"]) == {"username", "password"}


def test_a_method_the_endpoint_does_not_take_is_405_json(alice):
    response = bearer(api_login(alice)["access"]).post("/api/auth/me")

    assert_api_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", {"username": 5, "password": "x" * 12}, "username"),
        ("/api/auth/login", {"username": "alice", "password": 123456789012}, "password"),
        ("/api/auth/refresh", {"refresh": 5}, "refresh"),
    ],
)
def test_a_number_where_text_belongs_is_refused_as_the_wrong_type(alice, path, body, field):
    response = Client().post(path, body, content_type="application/json")

    body = assert_api_error(response, 400, "invalid")
    assert body["fields"][field] == ["Not a valid string."]
    # Never tried as a password, so never counted as a sign-in attempt.
    assert not LoginEvent.objects.exists()


def test_a_password_change_sent_numbers_is_refused_as_the_wrong_type(alice):
    response = bearer(api_login(alice)["access"]).put(
        "/api/auth/password",
        {"current_password": 1, "new_password": 2},
        content_type="application/json",
    )

    body = assert_api_error(response, 400, "invalid")
    assert set(body["fields"]) == {"current_password", "new_password"}
