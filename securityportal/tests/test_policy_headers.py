"""The protections every answer carries, JSON and the banner's poll included, though the
policy is built once per process: a changed setting still reaches the next answer, and a
view's own policy or cache header still wins where it should."""

import functools

import pytest
from csp.constants import NONE, SELF
from csp.decorators import csp, csp_exempt, csp_replace, csp_update
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory

from conftest import api_login, bearer, browser_for
from securityportal.middleware import ContentSecurityPolicyMiddleware
from securityportal.tests.test_production_settings import STRICT_POLICY


def policy(response, header: str = "Content-Security-Policy") -> set[str]:
    return set(response[header].split("; "))


def test_an_api_answer_runs_under_the_strict_policy_and_is_never_stored(alice):
    # JSON opened as a document (a link, a frame) is still a page of this origin:
    # the policy stops it being framed (clickjacking) or running anything.
    response = bearer(api_login(alice)["access"]).get("/api/auth/me")

    assert response.status_code == 200
    assert policy(response) == STRICT_POLICY
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) == 32


def test_the_banners_poll_runs_under_the_strict_policy_and_is_never_stored(alice):
    response = browser_for(alice).get("/session/status/")

    assert response.status_code == 200
    assert b'id="session-banner"' in response.content
    assert policy(response) == STRICT_POLICY
    assert response["Cache-Control"] == "no-store, private"


def test_a_view_that_sets_its_own_cache_header_is_still_never_stored(db):
    response = Client().get("/healthz")

    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_a_changed_policy_reaches_the_next_answer(db, settings):
    assert policy(Client().get("/login/")) == STRICT_POLICY

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [NONE]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"script-src": [SELF]}}
    response = Client().get("/login/")

    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert policy(response, "Content-Security-Policy-Report-Only") == {
        "default-src 'self'",
        "script-src 'self'",
    }


def test_a_policy_that_excludes_a_prefix_leaves_only_that_prefix_without_it(db, settings):
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "EXCLUDE_URL_PREFIXES": ["/healthz"],
    }

    assert "Content-Security-Policy" not in Client().get("/healthz")
    assert policy(Client().get("/login/")) == STRICT_POLICY


@pytest.mark.parametrize("report_only", [False, True])
@pytest.mark.parametrize(
    "decorator",
    [
        csp_exempt,
        functools.partial(csp_update, {"img-src": ["https://images.example"]}),
        functools.partial(csp_replace, {"img-src": ["https://images.example"]}),
        functools.partial(csp, {"default-src": [NONE]}),
    ],
    ids=["exempt", "update", "replace", "own policy"],
)
def test_a_view_that_changes_its_policy_is_answered_as_django_csp_answers_it(
    decorator, report_only, settings
):
    # The policy built once per process must never override a view's own: a check
    # that would break silently if django-csp names a view's change differently.
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
    view = decorator(REPORT_ONLY=report_only)(lambda request: HttpResponse("ok"))
    ours = ContentSecurityPolicyMiddleware(view)
    django_csps = CSPMiddleware(view)

    answer, expected = ours(RequestFactory().get("/")), django_csps(RequestFactory().get("/"))

    for header in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
        assert answer.get(header) == expected.get(header)


def test_a_request_for_another_host_is_refused_with_the_same_protections(db):
    # The refusal comes from CommonMiddleware, before any view: a forged Host must not
    # earn an answer that may be framed, run a script or be kept by a cache.
    response = Client().get("/login/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert policy(response) == STRICT_POLICY
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Frame-Options"] == "DENY"
