"""Bearer access tokens (SPEC §6, §7): only an unexpired HS256 access token of ours,
tied to a live API session, authenticates a request; everything else is a JSON 401."""

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from django.test import Client
from django.utils import timezone

from conftest import api_login, bearer, browser_for
from sessions.models import RevokedReason, Session
from sessions.tokens import _signing_key, issue_access_token


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64url(json.dumps(value).encode())


def claims_of(access: str) -> dict:
    """The claims of a token we minted, read without checking (to re-sign them altered)."""
    return jwt.decode(access, options={"verify_signature": False})


def signed(claims: dict, key: bytes | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or _signing_key(), algorithm=algorithm)


def assert_refused(response, code: str | None = None) -> dict:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["detail"]
    assert body["code"]
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def alice_api(alice) -> dict:
    return api_login(alice)


def test_a_valid_access_token_reaches_the_api(alice_api):
    response = bearer(alice_api["access"]).get("/api/auth/me")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_token_crafted_with_the_real_key_and_unchanged_claims_is_accepted(alice_api):
    # The control for every crafted token below: the crafting itself is sound, so
    # each refusal is caused by the one thing that was changed.
    token = signed(claims_of(alice_api["access"]))

    response = bearer(token).get("/api/auth/me")

    assert response.status_code == 200


def test_a_token_minted_by_the_token_module_is_accepted(alice_api):
    session = Session.objects.get(pk=alice_api["session"]["id"])
    token, _ = issue_access_token(session, timezone.now())

    assert bearer(token).get("/api/auth/me").status_code == 200


def test_a_request_without_a_token_is_asked_for_a_bearer_token(db):
    response = Client().get("/api/auth/me")

    assert_refused(response, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_tampered_signature_is_refused(alice_api):
    header, payload, signature = alice_api["access"].split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    response = bearer(f"{header}.{payload}.{flipped}").get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_tampered_payload_under_the_old_signature_is_refused(alice_api, bob):
    header, _, signature = alice_api["access"].split(".")
    claims = claims_of(alice_api["access"]) | {"sub": str(bob.pk)}

    response = bearer(f"{header}.{b64json(claims)}.{signature}").get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_an_expired_access_token_is_refused_although_its_session_is_live(alice_api, time_machine):
    time_machine.move_to(timezone.now() + timedelta(seconds=301), tick=False)

    response = bearer(alice_api["access"]).get("/api/auth/me")

    assert_refused(response, "token_expired")
    session = Session.objects.get(pk=alice_api["session"]["id"])
    assert session.revoked_at is None


def test_an_access_token_still_works_just_before_it_expires(alice_api, time_machine):
    time_machine.move_to(timezone.now() + timedelta(seconds=290), tick=False)

    response = bearer(alice_api["access"]).get("/api/auth/me")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "altered",
    [
        {"aud": "another-api"},
        {"aud": ["another-api"]},
        {"iss": "https://evil.example"},
        {"typ": "refresh"},
        {"typ": "ACCESS"},
        {"sid": str(uuid.uuid4())},
        {"sid": "not-a-uuid"},
        {"sid": 12},
        {"sub": "0"},
        {"sub": 1},
        {"exp": "never"},
    ],
    ids=[
        "wrong-aud",
        "wrong-aud-list",
        "wrong-iss",
        "typ-refresh",
        "typ-other-case",
        "unknown-sid",
        "sid-not-a-uuid",
        "sid-not-a-string",
        "sub-of-nobody",
        "sub-not-a-string",
        "exp-not-a-number",
    ],
)
def test_a_correctly_signed_token_with_altered_claims_is_refused(alice_api, altered):
    token = signed(claims_of(alice_api["access"]) | altered)

    response = bearer(token).get("/api/auth/me")

    assert_refused(response)


@pytest.mark.parametrize(
    "alter",
    [
        lambda claims: {"exp": str(claims["exp"])},
        lambda claims: {"exp": claims["exp"] + 0.5},
        lambda claims: {"iat": str(claims["iat"])},
        lambda claims: {"iat": True},
        lambda claims: {"exp": claims["iat"] + 10 * 365 * 24 * 3600},
        lambda claims: {"sid": "urn:uuid:" + claims["sid"]},
        lambda claims: {"sid": "{" + claims["sid"] + "}"},
        lambda claims: {"sid": claims["sid"].replace("-", "")},
        lambda claims: {"sid": claims["sid"].upper()},
    ],
    ids=[
        "exp-a-string",
        "exp-a-fraction",
        "iat-a-string",
        "iat-a-boolean",
        "lives-ten-years",
        "sid-as-urn",
        "sid-in-braces",
        "sid-without-hyphens",
        "sid-in-capitals",
    ],
)
def test_a_token_whose_times_or_session_id_we_never_write_is_refused(alice_api, alter):
    # Whoever holds the signing key can mint anything; short of that, a token is only
    # ever one we wrote: whole-second times, the configured lifetime, a canonical id.
    claims = claims_of(alice_api["access"])
    token = signed(claims | alter(claims))

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_token_naming_another_users_session_is_refused(alice_api, bob):
    # sub and sid must belong together: a forged sub cannot borrow alice's session.
    token = signed(claims_of(alice_api["access"]) | {"sub": str(bob.pk)})

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_token_naming_a_browser_session_is_refused(alice):
    browser_for(alice)
    browser_session = Session.objects.get(user=alice, kind=Session.Kind.BROWSER)
    claims = claims_of(api_login(alice)["access"]) | {"sid": str(browser_session.pk)}

    response = bearer(signed(claims)).get("/api/auth/me")

    assert_refused(response, "token_invalid")


@pytest.mark.parametrize("claim", ["sub", "sid", "jti", "iat", "exp", "aud", "iss", "typ"])
def test_a_token_missing_a_claim_is_refused(alice_api, claim):
    claims = claims_of(alice_api["access"])
    del claims[claim]

    response = bearer(signed(claims)).get("/api/auth/me")

    assert_refused(response, "token_invalid")


@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"], ids=["empty", "junk"])
def test_a_token_declaring_alg_none_is_refused(alice_api, signature):
    header = b64json({"alg": "none", "typ": "JWT"})
    payload = b64json(claims_of(alice_api["access"]))

    response = bearer(f"{header}.{payload}.{signature}").get("/api/auth/me")

    assert_refused(response, "token_invalid")


# The key is short for HS512; that is the attacker's problem, not the test's.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_with_hs512_under_the_real_key_is_refused(alice_api):
    token = signed(claims_of(alice_api["access"]), algorithm="HS512")

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_token_signed_with_another_key_is_refused(alice_api):
    token = signed(claims_of(alice_api["access"]), key=b"another key of thirty-two bytes!!")

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_token_signed_with_the_django_secret_key_itself_is_refused(alice_api, settings):
    # Key separation: the JWT key is derived from SECRET_KEY, never SECRET_KEY itself.
    token = signed(claims_of(alice_api["access"]), key=settings.SECRET_KEY.encode())

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "a.b.c.d",
        "....",
        b64json([]) + "." + b64json({}) + ".c2ln",
        b64json({"alg": "HS256"}) + "." + b64json(["not", "an", "object"]) + ".c2ln",
        "eyJhbGciOiJIUzI1NiJ9.!!!.###",
    ],
    ids=[
        "one-word",
        "three-junk-parts",
        "four-parts",
        "only-dots",
        "header-not-an-object",
        "payload-not-an-object",
        "not-base64",
    ],
)
def test_a_garbage_token_is_refused(db, token):
    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "token_invalid")


def test_a_refresh_token_is_never_accepted_as_a_bearer_token(alice_api):
    assert alice_api["refresh"].startswith("sprt_")

    response = bearer(alice_api["refresh"]).get("/api/auth/me")

    assert_refused(response, "token_invalid")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "bearer", "Bearer two tokens"],
    ids=["no-token", "no-token-trailing-space", "lower-case-no-token", "two-tokens"],
)
def test_a_malformed_bearer_header_is_refused(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/auth/me")

    assert_refused(response, "token_invalid")


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT"])
def test_another_authorization_scheme_is_not_authenticated(alice_api, scheme):
    response = Client(HTTP_AUTHORIZATION=f"{scheme} {alice_api['access']}").get("/api/auth/me")

    assert_refused(response, "not_authenticated")


def test_a_valid_token_of_a_revoked_session_is_refused_before_it_expires(alice_api, alice):
    session = Session.objects.get(pk=alice_api["session"]["id"])
    session.revoke(reason=RevokedReason.ADMIN, actor=None)

    response = bearer(alice_api["access"]).get("/api/auth/me")

    assert_refused(response, "session_revoked")


def test_a_valid_token_of_an_idle_expired_session_is_refused(alice, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    pair = api_login(alice)
    # Keep minting fresh access tokens, but let the session sit idle past 60 minutes.
    time_machine.shift(timedelta(minutes=61))
    session = Session.objects.get(pk=pair["session"]["id"])
    token, _ = issue_access_token(session, timezone.now())

    response = bearer(token).get("/api/auth/me")

    assert_refused(response, "session_expired")
    session.refresh_from_db()
    assert session.revoked_reason == RevokedReason.EXPIRED_IDLE


def test_a_valid_token_of_a_deactivated_user_is_refused(alice_api, alice):
    alice.is_active = False
    alice.save()

    response = bearer(alice_api["access"]).get("/api/auth/me")

    assert_refused(response)
