"""The OpenAPI document: complete, valid, and readable without signing in."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

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
    assert len(api_paths()) == 11


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
