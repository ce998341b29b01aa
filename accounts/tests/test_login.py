"""GET/POST /login/: sign-in by username or e-mail, safe redirects, reason banners."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.provisioning import create_user
from conftest import CHROME_MAC, PASSWORD, full_width
from sessions.models import Session

INVALID_LOGIN = "The username or password is incorrect."
BANNERS = {
    "session_expired": (
        "Your session has ended (it expired or was signed out). Please sign in again."
    ),
    "signed_out": "You have been signed out.",
    "revoked": "This session was signed out from another device. Please sign in again.",
}
# A real-looking phone whose model name ua-parser copies verbatim into the device family.
LONG_MODEL_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Redmi " + "A" * 400 + ") AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)


def browser(user_agent: str = CHROME_MAC) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def sign_in(identifier: str, password: str = PASSWORD, **extra: str):
    return browser().post("/login/", {"username": identifier, "password": password, **extra})


def test_it_shows_the_sign_in_form(db):
    response = browser().get("/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_the_sign_in_page_is_never_cached(db):
    response = browser().get("/login/")

    assert "no-store" in response["Cache-Control"]


def test_a_failed_sign_in_page_is_never_cached(alice):
    response = sign_in("alice", "not the password at all")

    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "identifier",
    ["alice", "alice@acme.example", "ALICE", "Alice@ACME.Example", full_width("alice")],
    ids=["username", "email", "username-other-case", "email-other-case", "full-width"],
)
def test_it_signs_in_with_a_username_or_an_email_address_in_any_case(alice, identifier):
    response = sign_in(identifier)

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    session = Session.objects.get()
    assert session.user == alice
    assert session.kind == "browser"
    assert session.ip == "127.0.0.1"
    assert session.device == "Chrome 131 on macOS"
    assert session.user_agent == CHROME_MAC
    assert session.revoked_at is None


def test_the_signed_in_browser_can_open_the_security_page(alice):
    client = browser()
    client.post("/login/", {"username": "alice", "password": PASSWORD})

    response = client.get("/settings/security/")

    assert response.status_code == 200


def test_it_rejects_a_wrong_password(alice):
    response = sign_in("alice", "correct horse battery stapler")

    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()
    assert not Session.objects.exists()


def test_it_answers_an_unknown_user_exactly_like_a_wrong_password(alice):
    wrong_password = sign_in("alice", "correct horse battery stapler")
    unknown_user = sign_in("mallory", PASSWORD)
    unknown_email = sign_in("mallory@acme.example", PASSWORD)

    assert unknown_user.status_code == unknown_email.status_code == 200
    errors = [r.context["form"].non_field_errors() for r in (unknown_user, unknown_email)]
    assert errors == [wrong_password.context["form"].non_field_errors()] * 2
    assert INVALID_LOGIN in unknown_user.content.decode()
    assert not Session.objects.exists()


def test_it_answers_an_inactive_user_exactly_like_a_wrong_password(alice):
    alice.is_active = False
    alice.save()

    response = sign_in("alice", PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [INVALID_LOGIN]
    assert not Session.objects.exists()


def test_it_honours_a_safe_next(alice):
    response = sign_in("alice", next="/settings/security/?x=1")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/?x=1"
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"],
)
def test_it_ignores_a_next_pointing_off_site(alice, next_url):
    response = sign_in("alice", next=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    "next_url",
    [
        "/logout/",
        "/api/auth/me",
        "/api/auth/sessions",
        "  /settings/security/",
        "/settings/security/password/",
        "/settings/security/sessions/00000000-0000-0000-0000-000000000000/revoke/",
        "/no/such/page/",
    ],
)
def test_a_next_that_is_not_a_page_to_land_on_goes_to_the_security_page(alice, next_url):
    response = sign_in("alice", next=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    "next_url",
    [
        "/settings/security/sessions/revoke-others/",
        "/settings/security/activity/",
        "/account/security/",
    ],
)
def test_a_next_to_a_page_made_to_be_landed_on_is_honoured(alice, next_url):
    response = sign_in("alice", next=next_url)

    assert response["Location"] == next_url


def test_the_form_does_not_carry_a_next_that_is_not_a_page(db):
    response = browser().get("/login/?next=/logout/")

    assert b'name="next" value=""' in response.content


def test_a_signed_out_user_sent_to_login_with_next_logout_is_not_signed_out_again(alice):
    laptop = browser()

    response = laptop.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/logout/"}, follow=True
    )

    assert response.redirect_chain == [("/settings/security/", 302)]
    assert response.status_code == 200
    assert Session.objects.filter(revoked_at__isnull=True).count() == 1


def test_get_logout_asks_before_signing_out(alice):
    laptop = browser()
    laptop.post("/login/", {"username": "alice", "password": PASSWORD})

    response = laptop.get("/logout/")

    assert response.status_code == 200
    assert b"Sign out?" in response.content
    assert b'<form method="post" action="/logout/"' in response.content
    assert Session.objects.filter(revoked_at__isnull=True).count() == 1


def test_get_logout_when_signed_out_goes_to_the_login_page(db):
    response = browser().get("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=signed_out"


def test_signing_out_lands_on_the_login_page_saying_so(alice):
    laptop = browser()
    laptop.post("/login/", {"username": "alice", "password": PASSWORD})

    response = laptop.post("/logout/", follow=True)

    assert response.redirect_chain == [("/login/?reason=signed_out", 302)]
    assert BANNERS["signed_out"] in response.content.decode()
    assert response.wsgi_request.path == "/login/"


def test_the_form_carries_a_safe_next_through_to_the_post(db):
    response = browser().get("/login/?next=/settings/security/%3Fx%3D1")

    assert b'name="next" value="/settings/security/?x=1"' in response.content


@pytest.mark.parametrize("reason", BANNERS)
def test_it_explains_why_the_user_is_on_the_login_page(db, reason):
    response = browser().get(f"/login/?reason={reason}")

    assert response.status_code == 200
    assert BANNERS[reason] in response.content.decode()


def test_it_shows_no_banner_without_a_reason(db):
    content = browser().get("/login/").content.decode()

    assert not any(banner in content for banner in BANNERS.values())
    assert 'role="status"' not in content


def test_it_never_echoes_an_unknown_reason(db):
    response = browser().get("/login/?reason=Your+bank+says+call+0800-SCAMMER")

    content = response.content.decode()
    assert response.status_code == 200
    assert "SCAMMER" not in content
    assert not any(banner in content for banner in BANNERS.values())
    assert 'role="status"' not in content


def test_a_signed_in_user_opening_the_login_page_is_sent_on(alice):
    client = browser()
    client.post("/login/", {"username": "alice", "password": PASSWORD})

    response = client.get("/login/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    assert Session.objects.count() == 1


def test_a_huge_username_gets_a_form_error_not_a_crash(alice):
    response = sign_in("a" * 10_000, PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not Session.objects.exists()


def test_a_huge_password_gets_a_form_error_not_a_crash(alice):
    response = sign_in("alice", "p" * 100_000)

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not Session.objects.exists()


def test_a_sign_in_from_a_device_with_a_very_long_model_name_still_works(alice):
    response = browser(LONG_MODEL_PHONE).post(
        "/login/", {"username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 302
    session = Session.objects.get()
    assert session.device.startswith("Chrome Mobile 131 on")
    assert len(session.device) <= Session._meta.get_field("device").max_length


def test_a_username_containing_an_at_sign_cannot_be_provisioned(alice):
    # Sign-in reads any identifier with "@" as an e-mail address, so a username
    # with "@" could shadow another person's e-mail.
    with pytest.raises(ValidationError):
        create_user(
            username="bob@acme.example",
            email="mallory@evil.example",
            account_name="Acme",
            role="member",
            password="a long and unusual passphrase",
        )

    assert not User.objects.filter(email="mallory@evil.example").exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_signed_in_user_sent_back_to_login_is_not_looped(alice, method):
    browser = Client()
    browser.post("/login/", {"username": "alice", "password": PASSWORD})

    response = getattr(browser, method)("/login/?next=/login/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("first", "second"),
    # Greek alpha + final sigma vs alpha + sigma; the long s vs s.
    [("\u03b1\u03c2", "\u03b1\u03c3"), ("\u017fam@acme.example", "sam@acme.example")],
    ids=["final-sigma", "long-s"],
)
def test_names_that_fold_alike_but_are_unique_each_sign_in_as_themselves(
    acme, globex, first, second
):
    field = "email" if "@" in first else "username"
    people = []
    for number, (value, account) in enumerate([(first, acme), (second, globex)]):
        person = User(username=f"person{number}", email=f"person{number}@x.example")
        setattr(person, field, value)
        person.account = account
        person.set_password(PASSWORD)
        person.save()
        people.append(person)

    signed_in = [
        browser().post("/login/", {"username": value, "password": PASSWORD}).wsgi_request.user
        for value in (first, second)
    ]

    assert [user.pk for user in signed_in] == [person.pk for person in people]


def autofocused(response) -> list[str]:
    """The names of the inputs the page puts the cursor in."""
    return re.findall(r'<input[^>]*\bname="(\w+)"[^>]*\bautofocus\b', response.content.decode())


def test_the_cursor_starts_in_the_username_field(db):
    assert autofocused(browser().get("/login/")) == ["username"]


def test_after_a_wrong_password_the_cursor_waits_in_the_password_field(alice):
    response = sign_in("alice", "not the password")

    assert INVALID_LOGIN in response.content.decode()
    assert autofocused(response) == ["password"]


def test_a_missing_username_keeps_the_cursor_in_the_username_field(db):
    response = browser().post("/login/", {"username": "", "password": PASSWORD})

    assert autofocused(response) == ["username"]
