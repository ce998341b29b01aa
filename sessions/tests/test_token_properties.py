"""Properties of the token parsers, over any input: whatever a client sends as an access
token, a refresh token or an Authorization header is refused with the documented
rejection (TokenRejected, a JSON 401) and never authenticates, unless it is a token
this server signed with every claim right."""

import base64
import json
import re
import string
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jwt import api_jws

from conftest import PYTHON_CLIENT, api_login
from sessions.tokens import (
    REFRESH_PREFIX,
    TokenRejected,
    _signing_key,
    decode_access_token,
    looks_like_refresh_token,
)

# The Django fixtures are only read by the examples, never changed, so one instance
# may serve every example of a test.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TOKEN_CODES = {"token_invalid", "token_expired"}
# Every code a 401 may carry (securityportal.schema.ERROR_CODES).
UNAUTHENTICATED_CODES = {
    "not_authenticated",
    "token_invalid",
    "token_expired",
    "session_expired",
    "session_revoked",
    "user_inactive",
}
BASE64URL = string.ascii_letters + string.digits + "-_"

# Any text at all, lone surrogates and control characters included.
any_text = st.text(st.characters(exclude_categories=()) | st.characters(categories=["Cs"]))
base64url_text = st.text(st.sampled_from(BASE64URL))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def b64json(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# Text shaped like a JWT: dotted segments of base64url, some of them real JSON.
segment = base64url_text | json_values.map(b64json)
jwt_shaped = st.lists(segment, min_size=1, max_size=5).map(".".join)


def claim_values(real: object) -> st.SearchStrategy:
    """The right value of a claim, or anything else a forger might put there."""
    return st.just(real) | json_values


@st.composite
def claims(draw: st.DrawFn, sub: str, sid: str) -> dict:
    now = int(time.time())
    honest = {
        "sub": sub,
        "sid": sid,
        "jti": "0" * 32,
        "iat": now,
        "exp": now + 300,
        "aud": django_settings.JWT_AUDIENCE,
        "iss": django_settings.JWT_ISSUER,
        "typ": "access",
    }
    chosen = {}
    for name, value in honest.items():
        kept = draw(st.sampled_from(["right", "other", "missing"]))
        if kept == "right":
            chosen[name] = value
        elif kept == "other":
            chosen[name] = draw(claim_values(value))
    return chosen


@PROPERTY
@given(token=any_text | st.binary() | jwt_shaped)
def test_decode_access_token_refuses_anything_but_a_token_of_ours(token):
    with pytest.raises(TokenRejected) as refused:
        decode_access_token(token)

    assert refused.value.code in TOKEN_CODES
    assert refused.value.detail


# Our key is as long as a SHA-256 digest; signing with it under HS384/HS512 is the point.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@PROPERTY
@given(
    data=st.data(),
    algorithm=st.sampled_from(["HS256", "HS384", "HS512", "none"]),
    our_key=st.booleans(),
)
def test_a_signed_token_is_accepted_only_with_our_key_our_algorithm_and_every_claim_right(
    data, algorithm, our_key
):
    chosen = data.draw(claims(sub="1", sid="7f0c1d5e-0000-4000-8000-000000000000"))
    key = _signing_key() if our_key else b"another key " * 6
    # Signed as raw JSON: jwt.encode would refuse to sign some of these claims at all.
    token = api_jws.encode(
        json.dumps(chosen).encode(),
        None if algorithm == "none" else key,
        algorithm=algorithm,
        headers={"typ": "JWT"},
    )

    try:
        decoded = decode_access_token(token)
    except TokenRejected as refused:
        assert refused.code in TOKEN_CODES
        return

    assert our_key
    assert algorithm == "HS256"
    assert decoded["typ"] == "access"
    assert decoded["aud"] == django_settings.JWT_AUDIENCE
    assert decoded["iss"] == django_settings.JWT_ISSUER
    assert isinstance(decoded["sid"], str)
    assert decoded["exp"] > time.time()


REFRESH_SHAPE = re.compile(r"sprt_[A-Za-z0-9_-]{43}")


@PROPERTY
@given(
    value=any_text
    | st.binary()
    | json_values
    | base64url_text.map(lambda text: REFRESH_PREFIX + text)
    | st.binary(min_size=32, max_size=32).map(
        lambda raw: REFRESH_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    )
)
def test_looks_like_refresh_token_is_true_exactly_for_the_refresh_shape(value):
    answer = looks_like_refresh_token(value)

    assert answer is (isinstance(value, str) and REFRESH_SHAPE.fullmatch(value) is not None)


def header_values() -> st.SearchStrategy[str]:
    """An Authorization header as a WSGI server hands it over: any bytes, decoded as
    Latin-1 (PEP 3333), often behind a bearer keyword."""
    keyword = st.sampled_from([b"", b"Bearer ", b"bearer ", b"BEARER  ", b"Bearer\t", b"Basic "])
    body = st.binary(max_size=300) | jwt_shaped.map(str.encode)
    return st.tuples(keyword, body).map(lambda parts: (parts[0] + parts[1]).decode("latin-1"))


@pytest.fixture
def client() -> Client:
    """One client for every example: a new one loads the middleware again, which
    costs more than the request."""
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT)


@pytest.mark.django_db
@PROPERTY
@given(header=header_values())
def test_no_authorization_header_authenticates_without_a_token_of_ours(client, header):
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in UNAUTHENTICATED_CODES
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def alice_access(alice) -> str:
    return api_login(alice)["access"]


def test_the_unaltered_token_authenticates(client, alice_access):
    # The control for the property below: the token it alters is a working one.
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {alice_access}")

    assert response.status_code == 200


@PROPERTY
@given(data=st.data())
def test_a_real_token_altered_in_its_signed_part_never_authenticates(client, alice_access, data):
    signed_part, signature = alice_access.rsplit(".", 1)
    position = data.draw(st.integers(min_value=0, max_value=len(signed_part) - 1))
    replacement = data.draw(st.text(st.sampled_from(BASE64URL + "."), max_size=3))
    altered = signed_part[:position] + replacement + signed_part[position + 1 :]
    # The signature covers the encoded text itself, so any other text is another token.
    assume(altered != signed_part)

    response = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {altered}.{signature}")

    assert response.status_code == 401, response.content
    assert response.json()["code"] in TOKEN_CODES


@pytest.mark.django_db
@PROPERTY
@given(refresh=any_text | jwt_shaped)
def test_no_text_is_accepted_as_a_refresh_token_unless_we_issued_it(client, refresh):
    response = client.post(
        "/api/auth/refresh", {"refresh": refresh}, content_type="application/json"
    )

    assert response.status_code in (400, 401), response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"]
