"""No input makes the API answer 500 (SPEC §6): malformed and hostile bodies, headers,
ids and methods all get a 4xx with a JSON ``{detail, code}``, or are ignored where an
endpoint takes no body."""

import json
import uuid

import pytest
from django.conf import settings
from django.test import Client

from conftest import PYTHON_CLIENT, api_login
from sessions.models import Session

JSON = "application/json"
HUGE = "a" * 100_000

# (id, body as sent on the wire, content type, statuses a careful API may answer)
MALFORMED_BODIES = [
    ("truncated-json", '{"username": "alice", ', JSON, {400}),
    ("not-json", "{bad json}", JSON, {400}),
    ("single-quotes", "{'username': 'alice'}", JSON, {400}),
    ("trailing-comma", '{"username": "alice",}', JSON, {400}),
    ("empty-body", "", JSON, {400}),
    ("whitespace-body", "   ", JSON, {400}),
    ("invalid-utf8", b'{"username": "\xff\xfe"}', JSON, {400}),
    ("nan", '{"username": NaN, "password": Infinity}', JSON, {400}),
    # Nested past the parser's recursion limit, but within the body size limit.
    ("deeply-nested-array", "[" * 30_000 + "]" * 30_000, JSON, {400}),
    ("deeply-nested-object", '{"a":' * 10_000 + "1" + "}" * 10_000, JSON, {400}),
    ("json-array", '["alice", "correct horse battery staple"]', JSON, {400}),
    ("empty-array", "[]", JSON, {400}),
    ("json-string", '"alice"', JSON, {400}),
    ("json-number", "42", JSON, {400}),
    ("json-null", "null", JSON, {400}),
    ("json-true", "true", JSON, {400}),
    ("empty-object", "{}", JSON, {400}),
    # Over API_MAX_BODY_BYTES: refused before anything parses it.
    ("huge-body", json.dumps({"username": HUGE, "password": HUGE, "refresh": HUGE}), JSON, {413}),
    ("five-megabytes", json.dumps({"username": "a" * 5_000_000}), JSON, {413}),
    (
        "form-encoded",
        "username=alice&password=correct+horse+battery+staple",
        "application/x-www-form-urlencoded",
        {415},
    ),
    ("text-plain", '{"username": "alice"}', "text/plain", {415}),
    ("xml", "<login><username>alice</username></login>", "application/xml", {415}),
    ("no-content-type", '{"username": "alice"}', "", {415}),
]

LOGIN_FIELDS = [
    ("username-number", {"username": 123, "password": "x"}, {400}),
    ("username-list", {"username": ["alice"], "password": "x"}, {400}),
    ("username-object", {"username": {"$ne": None}, "password": "x"}, {400}),
    ("username-true", {"username": True, "password": "x"}, {400}),
    ("username-null", {"username": None, "password": "x"}, {400}),
    ("password-null", {"username": "alice", "password": None}, {400}),
    ("password-number", {"username": "alice", "password": 123456789012}, {400}),
    ("password-list", {"username": "alice", "password": ["x"]}, {400}),
    ("username-missing", {"password": "x"}, {400}),
    ("password-missing", {"username": "alice"}, {400}),
    ("username-empty", {"username": "", "password": "x"}, {400}),
    ("username-huge", {"username": HUGE, "password": "x"}, {413}),
    ("password-huge", {"username": "alice", "password": HUGE}, {413}),
    ("username-long", {"username": "a" * 10_000, "password": "x"}, {400}),
    ("password-long", {"username": "alice", "password": "a" * 10_000}, {400}),
    ("username-unicode", {"username": "ålïçé 🙂 \u202e", "password": "x"}, {401}),
    ("email-unicode", {"username": "alïce@acme.example", "password": "x"}, {401}),
    ("username-nul", {"username": "ali\x00ce", "password": "x"}, {400}),
    ("password-nul", {"username": "alice", "password": "x\x00y"}, {400}),
]
# A lone surrogate is valid JSON ("\ud800") but not encodable text; json.dumps would
# write it escaped just the same, these are spelled out for the reader.
LOGIN_RAW_FIELDS = [
    ("username-lone-surrogate", '{"username": "\\ud800", "password": "x"}', {400, 401}),
    ("password-lone-surrogate", '{"username": "alice", "password": "\\udfff"}', {400, 401}),
    ("unknown-user-lone-surrogate", '{"username": "x", "password": "\\ud800"}', {400, 401}),
    ("email-lone-surrogate", '{"username": "a\\ud800@b.c", "password": "x"}', {400, 401}),
]

REFRESH_FIELDS = [
    ("list", {"refresh": ["x"]}, {400}),
    ("number", {"refresh": 123}, {400}),
    ("null", {"refresh": None}, {400}),
    ("object", {"refresh": {"token": "x"}}, {400}),
    ("true", {"refresh": True}, {400}),
    ("empty", {"refresh": ""}, {400}),
    ("missing", {"token": "sprt_x"}, {400}),
    ("huge", {"refresh": "sprt_" + HUGE}, {413}),
    ("long", {"refresh": "sprt_" + "a" * 10_000}, {400}),
    ("unicode", {"refresh": "sprt_" + "é" * 43}, {401}),
    ("nul", {"refresh": "sprt_" + "\x00" * 43}, {400}),
    ("prefix-only", {"refresh": "sprt_"}, {401}),
    ("unknown", {"refresh": "sprt_" + "A" * 43}, {401}),
    ("one-char-too-long", {"refresh": "sprt_" + "A" * 44}, {401}),
    ("trailing-newline", {"refresh": "sprt_" + "A" * 43 + "\n"}, {401}),
]
REFRESH_RAW_FIELDS = [
    ("lone-surrogate", '{"refresh": "sprt_\\ud800"}', {400, 401}),
]

# Endpoints that authenticate by bearer token and read no body, with their answer
# to a request that is fine apart from its body.
AUTHENTICATED = [
    ("post", "/api/auth/logout", 204),
    ("get", "/api/auth/me", 200),
    ("get", "/api/auth/sessions", 200),
    ("delete", "/api/auth/sessions/{other}", 204),
    ("post", "/api/auth/sessions/revoke-others", 200),
]
AUTHENTICATED_IDS = ["logout", "me", "sessions", "session-delete", "revoke-others"]


def assert_json_error(response, statuses: set[int]) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"] == JSON
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["code"], str)
    assert body["code"]
    return body


def too_large(body: str | bytes) -> bool:
    return len(body) > settings.API_MAX_BODY_BYTES


def send(client: Client, method: str, url: str, body: str | bytes, content_type: str):
    # raise_request_exception=False: a crash must be seen as the 500 a client would get.
    return client.generic(method.upper(), url, data=body, content_type=content_type)


def anonymous() -> Client:
    return Client(HTTP_USER_AGENT=PYTHON_CLIENT, raise_request_exception=False)


def authenticated(access: str) -> Client:
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {access}",
        HTTP_USER_AGENT=PYTHON_CLIENT,
        raise_request_exception=False,
    )


@pytest.fixture
def alice_api(alice) -> dict:
    return api_login(alice)


@pytest.fixture
def other_session(alice) -> str:
    """The id of another of alice's sessions, for DELETE to aim at."""
    return api_login(alice)["session"]["id"]


# Bodies of the two endpoints that read one


@pytest.mark.parametrize(
    ("body", "content_type", "statuses"),
    [case[1:] for case in MALFORMED_BODIES],
    ids=[case[0] for case in MALFORMED_BODIES],
)
@pytest.mark.parametrize("url", ["/api/auth/login", "/api/auth/refresh"])
def test_a_malformed_body_is_refused_with_a_json_error(alice, url, body, content_type, statuses):
    response = send(anonymous(), "post", url, body, content_type)

    assert_json_error(response, statuses)
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("payload", "statuses"),
    [case[1:] for case in LOGIN_FIELDS],
    ids=[case[0] for case in LOGIN_FIELDS],
)
def test_a_login_field_of_the_wrong_type_or_size_is_refused(alice, payload, statuses):
    response = send(anonymous(), "post", "/api/auth/login", json.dumps(payload), JSON)

    assert_json_error(response, statuses)
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("body", "statuses"),
    [case[1:] for case in LOGIN_RAW_FIELDS],
    ids=[case[0] for case in LOGIN_RAW_FIELDS],
)
def test_a_login_field_that_is_not_encodable_text_is_refused(alice, body, statuses):
    response = send(anonymous(), "post", "/api/auth/login", body, JSON)

    assert_json_error(response, statuses)
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("payload", "statuses"),
    [case[1:] for case in REFRESH_FIELDS],
    ids=[case[0] for case in REFRESH_FIELDS],
)
def test_a_refresh_field_of_the_wrong_type_or_size_is_refused(alice_api, payload, statuses):
    response = send(anonymous(), "post", "/api/auth/refresh", json.dumps(payload), JSON)

    assert_json_error(response, statuses)
    assert Session.objects.get().revoked_at is None


@pytest.mark.parametrize(
    ("body", "statuses"),
    [case[1:] for case in REFRESH_RAW_FIELDS],
    ids=[case[0] for case in REFRESH_RAW_FIELDS],
)
def test_a_refresh_token_that_is_not_encodable_text_is_refused(alice_api, body, statuses):
    response = send(anonymous(), "post", "/api/auth/refresh", body, JSON)

    assert_json_error(response, statuses)


def test_an_access_token_is_not_accepted_as_a_refresh_token(alice_api):
    response = send(
        anonymous(),
        "post",
        "/api/auth/refresh",
        json.dumps({"refresh": alice_api["access"]}),
        JSON,
    )

    assert_json_error(response, {400, 401})
    assert Session.objects.get().revoked_at is None


# Bodies sent to the endpoints that read none


@pytest.mark.parametrize(
    ("body", "content_type"),
    [case[1:3] for case in MALFORMED_BODIES],
    ids=[case[0] for case in MALFORMED_BODIES],
)
@pytest.mark.parametrize(("method", "url", "_"), AUTHENTICATED, ids=AUTHENTICATED_IDS)
def test_a_bad_body_without_a_token_is_refused_with_a_json_401(
    db, method, url, _, body, content_type
):
    url = url.format(other=uuid.uuid4())

    response = send(anonymous(), method, url, body, content_type)

    assert_json_error(response, {413} if too_large(body) else {401})


@pytest.mark.parametrize(
    ("body", "content_type"),
    [case[1:3] for case in MALFORMED_BODIES],
    ids=[case[0] for case in MALFORMED_BODIES],
)
@pytest.mark.parametrize(("method", "url", "status"), AUTHENTICATED, ids=AUTHENTICATED_IDS)
def test_a_bad_body_is_ignored_where_no_body_is_read(
    alice_api, other_session, method, url, status, body, content_type
):
    url = url.format(other=other_session)

    response = send(authenticated(alice_api["access"]), method, url, body, content_type)

    if too_large(body):
        assert_json_error(response, {413})
        assert not Session.objects.filter(revoked_at__isnull=False).exists()
    else:
        assert response.status_code == status, response.content[:300]


# Authorization headers


BAD_AUTHORIZATION = [
    ("huge-token", "Bearer " + HUGE),
    ("huge-header-segment", "Bearer " + "eyJ" + HUGE + ".e30.c2ln"),
    ("latin1-token", "Bearer ÿéàü.ñ.ö"),
    ("utf8-bytes-as-latin1", "Bearer " + "🙂".encode().decode("latin-1")),
    ("nul-in-token", "Bearer abc\x00def"),
    ("control-characters", "Bearer \x01\x02\x7f"),
    ("only-dots", "Bearer ..."),
    ("scheme-only", "Bearer"),
    ("three-words", "Bearer a b"),
    ("huge-scheme", HUGE + " token"),
]


@pytest.mark.parametrize(
    "header", [case[1] for case in BAD_AUTHORIZATION], ids=[case[0] for case in BAD_AUTHORIZATION]
)
@pytest.mark.parametrize(("method", "url", "_"), AUTHENTICATED, ids=AUTHENTICATED_IDS)
def test_a_bad_authorization_header_is_refused_with_a_json_401(
    alice_api, other_session, method, url, _, header
):
    url = url.format(other=other_session)
    client = Client(HTTP_AUTHORIZATION=header, raise_request_exception=False)

    response = getattr(client, method)(url)

    assert_json_error(response, {401})
    assert not Session.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize(
    "header", [case[1] for case in BAD_AUTHORIZATION], ids=[case[0] for case in BAD_AUTHORIZATION]
)
@pytest.mark.parametrize("url", ["/api/auth/login", "/api/auth/refresh"])
def test_a_bad_authorization_header_does_not_disturb_the_public_endpoints(alice, url, header):
    client = Client(HTTP_AUTHORIZATION=header, raise_request_exception=False)

    response = client.post(url, {}, content_type=JSON)

    # The missing fields are the only complaint: these endpoints read no header.
    body = assert_json_error(response, {400})
    assert body["code"] == "required"


# Ids in the URL


ODD_SESSION_IDS = [
    ("unknown-uuid", str(uuid.uuid4())),
    ("unknown-uuid-in-braces", "{" + str(uuid.uuid4()) + "}"),
    ("unknown-urn", f"urn:uuid:{uuid.uuid4()}"),
    ("nil-uuid", str(uuid.UUID(int=0))),
    ("not-a-uuid", "not-a-uuid"),
    ("number", "1"),
    ("negative-number", "-1"),
    ("huge", HUGE),
    ("nul", "%00"),
    ("unicode", "%C3%A9%F0%9F%99%82"),
    ("invalid-utf8", "%FF%FE"),
    ("dot-dot", ".."),
    ("sql-ish", "1'%20OR%20'1'='1"),
    ("uuid-with-suffix", f"{uuid.uuid4()}.json"),
]


@pytest.mark.parametrize(
    "session_id", [case[1] for case in ODD_SESSION_IDS], ids=[case[0] for case in ODD_SESSION_IDS]
)
def test_deleting_an_unknown_or_odd_session_id_is_a_json_404(alice_api, other_session, session_id):
    response = authenticated(alice_api["access"]).delete(f"/api/auth/sessions/{session_id}")

    assert_json_error(response, {404})
    assert not Session.objects.filter(revoked_at__isnull=False).exists()


# Methods


WRONG_METHODS = [
    ("get", "/api/auth/login"),
    ("put", "/api/auth/login"),
    ("patch", "/api/auth/login"),
    ("delete", "/api/auth/login"),
    ("get", "/api/auth/refresh"),
    ("put", "/api/auth/refresh"),
    ("delete", "/api/auth/refresh"),
    ("get", "/api/auth/logout"),
    ("put", "/api/auth/logout"),
    ("delete", "/api/auth/logout"),
    ("post", "/api/auth/me"),
    ("put", "/api/auth/me"),
    ("patch", "/api/auth/me"),
    ("delete", "/api/auth/me"),
    ("post", "/api/auth/sessions"),
    ("put", "/api/auth/sessions"),
    ("delete", "/api/auth/sessions"),
    ("get", "/api/auth/sessions/{other}"),
    ("post", "/api/auth/sessions/{other}"),
    ("put", "/api/auth/sessions/{other}"),
    ("patch", "/api/auth/sessions/{other}"),
    ("get", "/api/auth/sessions/revoke-others"),
    ("put", "/api/auth/sessions/revoke-others"),
    ("delete", "/api/auth/sessions/revoke-others"),
]


@pytest.mark.parametrize(
    ("method", "url"), WRONG_METHODS, ids=[f"{m}-{u}" for m, u in WRONG_METHODS]
)
def test_a_wrong_method_is_a_json_405_and_changes_nothing(alice_api, other_session, method, url):
    url = url.format(other=other_session)

    body = json.dumps({"username": "alice", "password": "x"})

    response = send(authenticated(alice_api["access"]), method, url, body, JSON)

    body = assert_json_error(response, {405})
    assert body["code"] == "method_not_allowed"
    assert not Session.objects.filter(revoked_at__isnull=False).exists()
    assert Session.objects.count() == 2


@pytest.mark.parametrize(
    "url",
    ["/api/auth/login/", "/api/auth/", "/api/auth/sessions/a/b", "/api/nothing-here"],
)
def test_an_unknown_api_url_is_a_json_404(alice_api, url):
    response = authenticated(alice_api["access"]).get(url)

    assert_json_error(response, {404})
