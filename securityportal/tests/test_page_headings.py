"""Every page a browser opens has one main heading, the one a screen reader's
heading list starts from; a fragment swapped into a page adds none."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import browser_for

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def main_headings(response) -> list[str]:
    return re.findall(r"<h1\b[^>]*>(.*?)</h1>", response.content.decode(), re.S)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/settings/security/", 200),
        ("/settings/security/activity/", 200),
        ("/settings/security/sessions/revoke-others/", 200),
        ("/account/security/", 200),
        ("/account/security/revoke-sessions/?scope=all", 200),
        ("/logout/", 200),
        ("/no-such-page/", 404),
    ],
)
def test_every_signed_in_page_has_one_main_heading(alice, path, status):
    response = browser_for(alice).get(path)

    assert response.status_code == status
    assert len(main_headings(response)) == 1


def test_the_sign_in_page_has_one_main_heading(db):
    assert len(main_headings(Client().get("/login/"))) == 1


def test_a_password_change_refused_without_javascript_is_a_page_with_its_main_heading(alice):
    page = browser_for(alice).post(
        "/settings/security/password/",
        {"old_password": "a wrong guess", "new_password1": "x", "new_password2": "x"},
    )

    assert page.status_code == 200
    assert main_headings(page) == ["Change password"]


def test_confirm_its_you_without_javascript_is_a_page_with_its_main_heading(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        page = owner.post("/account/security/", {"preset": "strict"})
        # That page's own form posts with htmx: a wrong password keeps it a page.
        again = owner.post(
            "/account/security/",
            {"preset": "strict", "reauth_password": "a wrong guess"},
            headers={"HX-Request": "true", "HX-Target": "reauth"},
        )
        card = owner.post(
            "/account/security/",
            {"preset": "strict"},
            headers={"HX-Request": "true", "HX-Target": "policy-card"},
        )

    assert main_headings(page) == ["Confirm it's you"]
    assert main_headings(again) == ["Confirm it's you"]
    assert '<section class="card card-narrow" id="reauth"' in again.content.decode()
    # Swapped into the owner page, under its own main heading.
    assert main_headings(card) == []
    assert "<h2 " in card.content.decode()
