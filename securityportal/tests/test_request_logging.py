"""Every request has an id, in its X-Request-ID header and on every log line written
while it is handled, with the user's id and the session's public id; one access line
per request. LOG_FORMAT=json writes one JSON object per line."""

import io
import json
import logging
import re

import pytest
from django.test import Client, override_settings

from audit.devices import disown_token
from conftest import PYTHON_CLIENT, api_login, bearer, browser_for, run_python
from securityportal.logs import console_handler
from sessions.models import Session

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def lines_of(json_log, request_id: str) -> list[dict]:
    return [line for line in json_log.lines() if line["request_id"] == request_id]


def access_line(json_log, request_id: str) -> dict:
    (line,) = [x for x in lines_of(json_log, request_id) if x["logger"] == "securityportal.access"]
    return line


def test_every_answer_carries_a_request_id_of_its_own():
    client = Client()

    first = client.get("/login/")
    second = client.get("/api/auth/me")

    assert GENERATED_ID.fullmatch(first["X-Request-ID"])
    assert GENERATED_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_every_line_of_a_request_carries_its_id(json_log):
    response = Client(HTTP_USER_AGENT=PYTHON_CLIENT).post(
        "/api/auth/refresh", {"refresh": "sprt_" + "x" * 43}, content_type="application/json"
    )

    lines = lines_of(json_log, response["X-Request-ID"])
    # Django's own refusal line, written after every middleware has returned, and ours.
    assert {line["logger"] for line in lines} == {"django.request", "securityportal.access"}
    assert response.status_code == 401
    assert all(line["level"] in {"INFO", "WARNING"} for line in lines)


def test_the_access_line_names_the_api_user_and_session(alice, json_log):
    pair = api_login(alice)

    response = bearer(pair["access"]).get("/api/auth/sessions")

    line = access_line(json_log, response["X-Request-ID"])
    assert line["user_id"] == alice.pk
    assert line["session_id"] == pair["session"]["id"]
    assert line["method"] == "GET"
    assert line["path"] == "/api/auth/sessions"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["message"].startswith("GET /api/auth/sessions 200 ")


def test_the_access_line_names_the_browser_user_and_session(alice, json_log):
    browser = browser_for(alice)

    response = browser.get("/settings/security/")

    line = access_line(json_log, response["X-Request-ID"])
    assert line["user_id"] == alice.pk
    assert line["session_id"] == str(Session.objects.get(user=alice).pk)


def test_a_signed_out_request_has_no_user_or_session(json_log):
    response = Client().get("/login/")

    line = access_line(json_log, response["X-Request-ID"])
    assert line["user_id"] is None
    assert line["session_id"] is None
    assert line["status"] == 200


def test_the_access_line_leaves_out_the_query_string(json_log):
    response = Client().get("/login/?next=/settings/security/&reason=session_expired")

    assert access_line(json_log, response["X-Request-ID"])["path"] == "/login/"


def test_a_this_wasnt_me_link_is_logged_without_its_token(alice, json_log):
    pair = api_login(alice)
    token = disown_token(pair["session"]["id"])

    response = Client().get(f"/sessions/disown/{token}/")

    assert response.status_code == 200
    line = access_line(json_log, response["X-Request-ID"])
    assert line["path"] == "/sessions/disown/[redacted]/"
    assert token not in json_log.text


def test_a_this_wasnt_me_link_sent_to_https_is_logged_without_its_token(alice, json_log):
    token = disown_token(api_login(alice)["session"]["id"])

    # The redirect is answered before any view resolves the URL: the rule is the
    # path's shape, not the route.
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = Client().get(f"/sessions/disown/{token}/")

    assert response.status_code == 301
    assert access_line(json_log, response["X-Request-ID"])["path"] == (
        "/sessions/disown/[redacted]/"
    )
    assert token not in json_log.text


@pytest.mark.parametrize(
    ("method", "checks_csrf", "status"),
    [("post", True, 403), ("put", False, 405)],
    ids=["refused for want of a CSRF token", "refused for its method"],
)
def test_a_this_wasnt_me_link_refused_by_django_is_logged_without_its_token(
    alice, json_log, method, checks_csrf, status
):
    token = disown_token(api_login(alice)["session"]["id"])
    browser = Client(enforce_csrf_checks=checks_csrf)

    # Django writes a line of its own for these refusals, quoting the path.
    response = getattr(browser, method)(f"/sessions/disown/{token}/")

    assert response.status_code == status
    refusals = [line for line in json_log.lines() if line["logger"] != "securityportal.access"]
    assert any("/sessions/disown/[redacted]/" in line["message"] for line in refusals)
    assert token not in json_log.text


@pytest.mark.parametrize("ending", ["%C3%A9", "%5C"], ids=["an accent", "a backslash"])
def test_a_this_wasnt_me_link_with_a_character_django_escapes_is_logged_without_its_token(
    alice, json_log, ending
):
    token = disown_token(api_login(alice)["session"]["id"])

    # Django escapes the path it quotes in "Not Found: …" (\xe9, \\).
    response = Client().get(f"/sessions/disown/{token}/{ending}")

    assert response.status_code == 404
    assert any(line["message"].startswith("Not Found: ") for line in json_log.lines())
    assert token not in json_log.text


def test_a_line_written_after_the_request_has_no_request_id(json_log):
    Client().get("/login/")

    logging.getLogger("securityportal").warning("between requests")

    assert json_log.lines()[-1]["message"] == "between requests"
    assert json_log.lines()[-1]["request_id"] is None


def test_an_incoming_request_id_is_ignored_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    response = Client().get("/login/", headers={"X-Request-ID": "chosen-by-the-client"})

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


def test_an_incoming_request_id_from_a_trusted_proxy_is_kept(settings, json_log):
    settings.TRUSTED_PROXY_COUNT = 1

    response = Client().get("/login/", headers={"X-Request-ID": "lb-7f3a.2c_91"})

    assert response["X-Request-ID"] == "lb-7f3a.2c_91"
    assert access_line(json_log, "lb-7f3a.2c_91")["path"] == "/login/"


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "two words", 'forged"}\n{"level": "INFO"', "id;drop", "é-accented"],
)
def test_a_malformed_request_id_is_replaced_even_from_a_trusted_proxy(settings, incoming):
    settings.TRUSTED_PROXY_COUNT = 1

    response = Client().get("/login/", headers={"X-Request-ID": incoming})

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


def test_a_plain_text_line_carries_the_request_id_and_no_line_break_of_the_url():
    stream = io.StringIO()
    handler = console_handler("plain", stream)
    logging.getLogger().addHandler(handler)
    try:
        response = Client().get("/login/%0Aforged")
    finally:
        logging.getLogger().removeHandler(handler)

    request_id = response["X-Request-ID"]
    lines = stream.getvalue().splitlines()
    access = rf" INFO securityportal\.access \[{request_id}\] GET /login/\?forged 404 [0-9.]+ms"
    assert [line for line in lines if re.search(access, line)]
    # A line break in the URL cannot start a forged line of its own (log injection).
    assert not [line for line in lines if line.startswith("forged")]


def test_log_format_json_writes_one_json_object_per_line():
    script = "import django, logging; django.setup(); logging.getLogger('portal').warning('ready')"

    result = run_python("-c", script, LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stderr.splitlines()]
    assert line["message"] == "ready"
    assert line["level"] == "WARNING"
    assert line["logger"] == "portal"
    assert line["request_id"] is None


def test_an_unknown_log_format_is_refused_naming_the_choices():
    result = run_python("-c", "import django; django.setup()", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not known: set it to plain or json." in result.stderr
