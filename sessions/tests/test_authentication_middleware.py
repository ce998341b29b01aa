"""request.user comes from the session row the store already read, but only when Django's
auth.get_user would accept it too; otherwise Django decides, as it always did."""

import hashlib

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.test import Client

from conftest import browser_for
from sessions.models import Session
from sessions.store import SessionStore

pytestmark = pytest.mark.django_db


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def edit_session(browser: Client, **data: str) -> None:
    """Change the stored data of the browser's session, as only the server could."""
    store = SessionStore(browser.cookies[settings.SESSION_COOKIE_NAME].value)
    for key, value in data.items():
        store[key] = value
    store.save()


def test_a_signed_in_page_reads_the_user_with_the_session_row(alice, django_assert_num_queries):
    browser = browser_for(alice)

    # The confirmation page of sign-out reads nothing but the session: one query.
    with django_assert_num_queries(1) as queries:
        response = browser.get("/logout/")

    assert response.status_code == 200
    assert "alice" in response.content.decode()
    [query] = queries.captured_queries
    assert "accounts_user" in query["sql"]


def test_a_forged_session_hash_signs_the_request_out(alice):
    browser = browser_for(alice)
    edit_session(browser, **{HASH_SESSION_KEY: "0" * 64})

    response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert row_of_user(alice).revoked_reason == "logout"


def test_a_session_of_a_backend_no_longer_configured_is_not_signed_in(alice, settings):
    browser = browser_for(alice)
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]

    response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/settings/security/"


def test_a_session_whose_data_names_another_user_is_not_the_rows_user(alice):
    browser = browser_for(alice)
    edit_session(browser, **{SESSION_KEY: "999999"})

    response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_session_hashed_under_a_retired_secret_key_is_rekeyed_not_signed_out(
    alice, settings, django_assert_num_queries
):
    browser = browser_for(alice)
    old_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-test-only-secret-key-after-rotation"

    first = browser.get("/settings/security/")
    new_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    # Re-keyed under the new secret, the session is read in one query again.
    with django_assert_num_queries(1):
        second = browser.get("/logout/")

    assert first.status_code == 200
    assert second.status_code == 200
    assert new_key != old_key
    assert row_of(browser).revoked_at is None
    assert row_of_user(alice).pk == row_of(browser).pk


def row_of_user(user) -> Session:
    return Session.objects.get(user=user)
