"""The OpenAPI document: complete, valid, and readable without signing in."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from securityportal.schema import ERROR_CODES

pytestmark = pytest.mark.django_db

DOCUMENTATION = {"/api/schema/", "/api/docs/", "/api/redoc/"}


def api_paths() -> set[str]:
    """Every route under /api/, written as OpenAPI writes paths (``{name}``)."""
    found = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                found.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return found - DOCUMENTATION


def schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_served_as_json_and_yaml_without_signing_in():
    as_json = Client().get("/api/schema/", {"format": "json"})
    as_yaml = Client().get("/api/schema/")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json.json()["openapi"].startswith("3.")
    assert as_yaml.content.startswith(b"openapi: 3.")


def test_every_route_under_api_is_in_the_schema():
    assert api_paths() <= set(schema()["paths"])
    assert len(api_paths()) == 12


def test_every_operation_documents_its_errors_in_the_one_shape():
    for path, operations in schema()["paths"].items():
        for method, operation in operations.items():
            errors = {code: body for code, body in operation["responses"].items() if code >= "400"}
            assert errors, f"{method} {path} documents no error"
            for body in errors.values():
                ref = body["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error"


def test_signed_in_operations_name_the_bearer_scheme():
    document = schema()

    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access token from POST /api/auth/login or /api/auth/refresh.",
    }
    assert document["paths"]["/api/auth/me"]["get"]["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_need_no_sign_in_and_load_nothing_from_elsewhere(url):
    response = Client().get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in content
    assert not re.search(r"(src|href)=\"https?://", content)


def test_the_schema_validates_with_no_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def headers_of(document: dict, path: str, method: str, status: str) -> set[str]:
    return set(document["paths"][path][method]["responses"][status].get("headers", {}))


RATE = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_answers_counted_against_a_rate_document_its_headers():
    document = schema()

    assert headers_of(document, "/api/auth/sessions", "get", "200") == RATE
    assert headers_of(document, "/api/auth/sessions/revoke-others", "post", "200") == RATE
    # Not session management: not counted against SESSION_API_RATE.
    assert headers_of(document, "/api/auth/me", "get", "200") == set()
    assert headers_of(document, "/api/auth/login-events", "get", "200") == set()
    assert headers_of(document, "/api/auth/login", "post", "200") == RATE
    assert headers_of(document, "/api/auth/login", "post", "400") == RATE
    assert headers_of(document, "/api/auth/login", "post", "401") == RATE | {"WWW-Authenticate"}
    assert headers_of(document, "/api/auth/login", "post", "413") == set()
    # Refresh names no user until it succeeds: no rate counts it.
    assert headers_of(document, "/api/auth/refresh", "post", "200") == set()


def test_refusals_document_retry_after_and_the_bearer_challenge():
    document = schema()

    assert headers_of(document, "/api/auth/sessions", "get", "429") == RATE | {"Retry-After"}
    assert headers_of(document, "/api/auth/sessions", "get", "401") == {"WWW-Authenticate"}
    assert headers_of(document, "/api/accounts/me/security", "get", "403") == set()
    assert document["components"]["headers"]["Retry-After"]["required"] is True


def test_a_new_pair_links_to_refreshing_it_and_signing_its_session_out():
    links = schema()["paths"]["/api/auth/login"]["post"]["responses"]["200"]["links"]

    assert links["RefreshIt"]["requestBody"] == {"refresh": "$response.body#/refresh"}
    assert links["SignOutIt"]["parameters"] == {"session_id": "$response.body#/session/id"}


def test_an_empty_limit_is_documented_as_allowed():
    (limit,) = schema()["paths"]["/api/auth/login-events"]["get"]["parameters"]

    assert limit["name"] == "limit"
    assert limit["allowEmptyValue"] is True


def test_the_client_guide_explains_every_error_code():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()
    codes = {code for text in ERROR_CODES.values() for code in re.findall(r"`(\w+)`", text)}

    missing = {code for code in codes if f"`{code}`" not in guide}

    assert not missing, f"docs/API.md does not explain {sorted(missing)}"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("get", "/api/schema/?format=xml", {}, 404, "not_found"),
        ("post", "/api/schema/", {}, 405, "method_not_allowed"),
        ("get", "/api/schema/", {"Accept": "text/html"}, 406, "not_acceptable"),
        ("get", "/api/docs/", {"Accept": "application/xml"}, 406, "not_acceptable"),
        ("post", "/api/docs/", {}, 405, "method_not_allowed"),
        ("get", "/api/redoc/?format=json", {}, 404, "not_found"),
        ("post", "/api/redoc/", {}, 405, "method_not_allowed"),
    ],
)
def test_the_documentation_refuses_in_the_apis_json_like_every_endpoint(
    method, path, headers, status, code
):
    response = getattr(Client(), method)(path, headers=headers)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert response.json()["detail"]
