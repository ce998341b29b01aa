"""Rotating the keys as docs/DEPLOY.md says: DJANGO_SECRET_KEY with the previous key in
DJANGO_SECRET_KEY_FALLBACKS, and JWT_SIGNING_KEY."""

import pytest
from django.test import Client

from audit.devices import disown_token
from conftest import PYTHON_CLIENT, api_login, bearer, browser_for, run_python

pytestmark = pytest.mark.django_db

NEW_SECRET_KEY = "a-new-test-only-secret-key-after-rotation"
PRINT_FALLBACKS = (
    "from django.conf import settings; "
    "print(len(settings.SECRET_KEY_FALLBACKS), *settings.SECRET_KEY_FALLBACKS)"
)


def rotate_secret_key(settings, *, keep_previous: bool) -> None:
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY] if keep_previous else []
    settings.SECRET_KEY = NEW_SECRET_KEY


def refresh(token: str):
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def test_previous_secret_keys_are_read_from_the_environment():
    result = run_python(
        "-c", PRINT_FALLBACKS, DJANGO_SECRET_KEY_FALLBACKS="first-old-key, second-old-key"
    )

    assert result.stdout.split() == ["2", "first-old-key", "second-old-key"], result.stderr


def test_there_is_no_previous_secret_key_unless_one_is_given():
    result = run_python("-c", PRINT_FALLBACKS)

    assert result.stdout.split() == ["0"], result.stderr


def test_a_browser_signed_in_under_a_retired_key_is_signed_out(alice, settings):
    browser = browser_for(alice)
    rotate_secret_key(settings, keep_previous=False)

    response = browser.get("/settings/security/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_this_wasnt_me_link_made_under_the_previous_key_works_while_it_is_a_fallback(
    alice, settings
):
    token = disown_token(api_login(alice)["session"]["id"])
    rotate_secret_key(settings, keep_previous=True)

    response = Client().get(f"/sessions/disown/{token}/")

    assert response.status_code == 200
    assert response.context["session"].user == alice


def test_a_this_wasnt_me_link_made_under_a_retired_key_is_refused(alice, settings):
    token = disown_token(api_login(alice)["session"]["id"])
    rotate_secret_key(settings, keep_previous=False)

    response = Client().get(f"/sessions/disown/{token}/")

    assert response.status_code == 400


@pytest.mark.parametrize("rotated", ["JWT_SIGNING_KEY", "DJANGO_SECRET_KEY"])
def test_a_new_token_key_refuses_access_tokens_at_once_while_refresh_tokens_still_work(
    alice, settings, rotated
):
    # With JWT_SIGNING_KEY unset the token key is derived from the secret key, and
    # tokens have no fallback keys: rotating either one has the same effect.
    settings.JWT_SIGNING_KEY = "" if rotated == "DJANGO_SECRET_KEY" else "k" * 40
    pair = api_login(alice)
    if rotated == "DJANGO_SECRET_KEY":
        rotate_secret_key(settings, keep_previous=True)
    else:
        settings.JWT_SIGNING_KEY = "n" * 40

    refused = bearer(pair["access"]).get("/api/auth/me")
    refreshed = refresh(pair["refresh"])

    assert refused.status_code == 401
    assert refused.json()["code"] == "token_invalid"
    assert refreshed.status_code == 200
    assert bearer(refreshed.json()["access"]).get("/api/auth/me").status_code == 200
