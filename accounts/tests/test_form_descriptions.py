"""Every form error and help text is read with its input: each id an input names in
aria-describedby is on the page (Django's inputs name "<id>_helptext" and, when the
field has errors, "<id>_error"; the templates must write them under those ids)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import browser_for

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/security/"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def described_by(page: str) -> list[str]:
    return [
        name for value in re.findall(r'aria-describedby="([^"]*)"', page) for name in value.split()
    ]


def missing_descriptions(page: str) -> list[str]:
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    return [name for name in described_by(page) if name not in ids]


def test_the_security_page_ties_each_password_help_text_to_its_input(alice):
    page = browser_for(alice).get("/settings/security/").content.decode()

    assert "id_new_password1_helptext" in described_by(page)
    assert missing_descriptions(page) == []


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_password_errors_are_tied_to_their_inputs(alice, headers):
    response = browser_for(alice).post(
        "/settings/security/password/",
        {"old_password": "not it", "new_password1": "short", "new_password2": "other"},
        headers=headers,
    )

    page = response.content.decode()
    assert "id_old_password_error" in described_by(page)
    assert missing_descriptions(page) == []


def test_sign_in_errors_are_tied_to_their_inputs(db):
    page = Client().post("/login/", {"username": "", "password": ""}).content.decode()

    assert {"id_username_error", "id_password_error"} <= set(described_by(page))
    assert missing_descriptions(page) == []


def test_policy_errors_are_tied_to_their_inputs(alice):
    page = (
        browser_for(alice)
        .post(
            "/account/security/", {"preset": "custom", "idle_minutes": "2", "absolute_minutes": ""}
        )
        .content.decode()
    )

    assert "id_idle_minutes_error" in described_by(page)
    assert missing_descriptions(page) == []


def test_a_wrong_password_at_confirm_its_you_is_tied_to_its_input(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        page = owner.post(
            "/account/security/",
            {"preset": "strict", "reauth_password": "a wrong guess"},
        ).content.decode()

    assert "id_reauth_password_error" in described_by(page)
    assert missing_descriptions(page) == []


def test_a_policy_sent_without_a_preset_says_so_next_to_the_presets(alice):
    page = browser_for(alice).post("/account/security/", {"idle_minutes": "30"}).content.decode()

    assert '<div id="id_preset_error"><p class="field-error">This field is required.</p>' in page
    assert 'aria-describedby="id_preset_error"' in page
    assert missing_descriptions(page) == []
