"""Every refusal a person can meet is a page on the site's layout that says what
happened and offers a way back; under /api/ the same refusals are JSON {detail, code}.
Tests run with DEBUG off, as production does."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from conftest import browser_for

ERRORS = "securityportal.tests.error_urls"


def assert_site_page(response, status: int, heading: str) -> str:
    """The page answered ``status`` on the site's layout, under ``heading``."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<header class="site-header">' in page
    assert "/static/css/portal.css" in page
    assert f'<h1 id="error-title">{heading}</h1>' in page
    assert f"Error {status}" in page
    return page


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def way_back(page: str) -> str:
    [href] = re.findall(
        r'<p class="actions"><a class="button button-primary" href="([^"]*)"', page
    )
    return href


# 404


def test_an_unknown_page_is_the_404_page_with_a_way_back(db):
    response = Client().get("/no/such/page/")

    page = assert_site_page(response, 404, "We can't find that page")
    assert '<code class="error-path">/no/such/page/</code>' in page
    assert way_back(page) == "/settings/security/"


def test_the_404_page_shows_who_is_signed_in(alice):
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()

    page = assert_site_page(
        browser_for(alice).get("/no/such/page/"), 404, "We can't find that page"
    )

    assert '<span class="who-name">Alice Liddell</span>' in page
    assert "Acme" in page
    assert "Sign out" in page


def test_the_requested_path_cannot_put_markup_on_the_404_page(db):
    page = Client().get("/<script>alert(1)</script>/").content.decode()

    assert "<script>alert(1)" not in page
    assert "/%3Cscript%3Ealert%281%29%3C/script%3E/" in page


# 403


def test_a_member_is_refused_the_owner_page_with_the_403_page(bob):
    response = browser_for(bob).get("/account/security/")

    page = assert_site_page(response, 403, "You can't open this page")
    assert way_back(page) == "/settings/security/"


# 400


def test_a_bad_host_header_is_the_400_page():
    response = Client().get("/login/", HTTP_HOST="evil.example")

    page = assert_site_page(response, 400, "We couldn't understand that request")
    assert "site-nav" not in page


# CSRF


def test_a_form_with_a_stale_token_is_refused_with_the_expired_form_page(alice):
    browser = browser_for(alice)
    browser.handler.enforce_csrf_checks = True

    response = browser.post(
        "/logout/",
        {"csrfmiddlewaretoken": "x" * 64},
        HTTP_REFERER="http://testserver/settings/security/",
    )

    page = assert_site_page(response, 403, "This form has expired")
    assert "Your page was open too long" in page
    assert "Reload the page and try again." in page
    assert way_back(page) == "http://testserver/settings/security/"
    # Nothing happened: the session is still signed in.
    assert browser.get("/settings/security/").status_code == 200


def test_the_expired_form_page_never_links_to_another_site(db):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/login/", {"username": "alice"}, HTTP_REFERER="https://evil.example/login/"
    )

    page = assert_site_page(response, 403, "This form has expired")
    assert way_back(page) == "/settings/security/"
    assert "evil.example" not in page


def test_the_expired_form_page_says_when_cookies_are_missing(db):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "alice"})

    page = assert_site_page(response, 403, "This form has expired")
    assert "allow cookies for this site" in page


# 405


def test_opening_a_button_address_is_the_405_page_with_its_allow_header(alice):
    response = browser_for(alice).get("/settings/security/password/")

    page = assert_site_page(response, 405, "This page can't be opened this way")
    assert response["Allow"] == "POST"
    assert way_back(page) == "/settings/security/"


def test_a_class_view_refusing_a_method_is_the_405_page_too(db):
    response = Client().delete("/login/")

    assert_site_page(response, 405, "This page can't be opened this way")
    assert set(response["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.urls(ERRORS)
def test_a_method_refused_under_the_api_is_json_with_its_allow_header(db):
    response = Client().get("/api/test-errors/post-only/")

    body = assert_api_error(response, 405, "method_not_allowed")
    assert body["detail"] == 'Method "GET" not allowed.'
    assert response["Allow"] == "POST"


def test_a_405_page_is_not_cached(alice):
    response = browser_for(alice).get("/settings/security/password/")

    assert "no-store" in response["Cache-Control"]


# 429


@pytest.mark.urls(ERRORS)
def test_a_rate_refusal_is_the_429_page_saying_when_to_retry(db):
    response = Client().get("/test-errors/rate-limited/?retry_after=90")

    page = assert_site_page(response, 429, "Too many requests")
    assert "Please wait 2 minutes, then try again." in page
    assert response["Retry-After"] == "90"


@pytest.mark.urls(ERRORS)
def test_a_rate_refusal_without_a_known_wait_says_a_minute_and_sends_no_retry_after(db):
    response = Client().get("/test-errors/rate-limited/")

    page = assert_site_page(response, 429, "Too many requests")
    assert "Please wait a minute, then try again." in page
    assert not response.has_header("Retry-After")


@pytest.mark.urls(ERRORS)
def test_a_rate_refusal_under_the_api_is_json_with_retry_after(db):
    response = Client().get("/api/test-errors/rate-limited/?retry_after=30")

    assert_api_error(response, 429, "throttled")
    assert response["Retry-After"] == "30"


# 500 and 503: rendered without the database


@pytest.mark.urls(ERRORS)
def test_a_bug_is_the_500_page_rendered_with_the_database_blocked():
    # No django_db: pytest-django refuses every query, so the session cookie's
    # lookup fails first and the 500 page must be drawn without any.
    browser = Client(raise_request_exception=False)
    browser.cookies[settings.SESSION_COOKIE_NAME] = "a-session-key"

    response = browser.get("/test-errors/broken/")

    page = assert_site_page(response, 500, "Something went wrong on our side")
    assert "site-nav" not in page
    assert way_back(page) == "/settings/security/"


@pytest.mark.urls(ERRORS)
def test_a_bug_under_the_api_is_a_500_json():
    response = Client(raise_request_exception=False).get("/api/test-errors/broken/")

    assert_api_error(response, 500, "server_error")


@pytest.mark.urls(ERRORS)
@pytest.mark.django_db
def test_a_database_error_is_the_503_page_with_retry_after_and_no_further_query(
    django_assert_num_queries,
):
    browser = Client(raise_request_exception=False)

    # The one query is the view's own, which failed; the page reads nothing.
    with django_assert_num_queries(1):
        response = browser.get("/test-errors/database-error/")

    page = assert_site_page(response, 503, "Security Portal is briefly unavailable")
    assert response["Retry-After"] == "5"
    assert "try again in 5 seconds" in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.urls(ERRORS)
@pytest.mark.django_db
def test_a_database_error_under_the_api_outside_drf_is_a_503_json(django_assert_num_queries):
    with django_assert_num_queries(1):
        response = Client(raise_request_exception=False).get("/api/test-errors/database-error/")

    assert_api_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"


# Favicon


def test_the_favicon_answers_without_signing_in():
    response = Client().get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"


def test_the_favicon_is_an_svg_linked_from_every_page(db):
    page = Client().get("/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("favicon.svg")
