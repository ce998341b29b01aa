"""Production mode, secure by default: the headers and cookies a browser receives, and
the settings an operator gets from DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
DATABASE_URL alone. The suite itself runs on plain HTTP (conftest.py); these tests turn
production's redirect back on where they need it."""

import json
import re
import shlex
import subprocess

import pytest
from django.test import Client

from conftest import PASSWORD, PROJECT, api_login, bearer, run_python

PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-production-key-of-more-than-fifty-random-characters-0123456789",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://portal@db.example.com:5432/portal",
}
STRICT_POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
}
SETTINGS_DUMP = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "redirect": settings.SECURE_SSL_REDIRECT,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "hsts_subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "hsts_preload": settings.SECURE_HSTS_PRELOAD,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE],
    "csrf_cookie": [settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE],
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "conn_health_checks": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"),
    "database_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "finders": settings.WHITENOISE_USE_FINDERS,
    "csrf_trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
    "silenced": settings.SILENCED_SYSTEM_CHECKS,
}))
"""


def production_settings(**env: str | None) -> dict:
    loaded = run_python("-c", SETTINGS_DUMP, **{**PRODUCTION, **env})
    assert loaded.returncode == 0, loaded.stderr
    return json.loads(loaded.stdout)


def https_browser(user) -> Client:
    """A browser signed in over HTTPS, as production serves it."""
    browser = Client()
    response = browser.post(
        "/login/", {"username": user.username, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302, response.content
    return browser


def test_production_redirects_plain_http_and_keeps_browsers_on_https_for_a_year():
    found = production_settings()

    assert found["redirect"] is True
    assert found["hsts"] == 31_536_000
    # Opt-in only: they bind every subdomain, and preload cannot be taken back quickly.
    assert found["hsts_subdomains"] is False
    assert found["hsts_preload"] is False


def test_hsts_binds_subdomains_and_the_preload_list_only_when_asked():
    found = production_settings(SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1")

    assert found["hsts_subdomains"] is True
    assert found["hsts_preload"] is True
    # Django's own warnings about the two opt-ins are no longer silenced.
    assert "security.W005" not in found["silenced"]
    assert "security.W021" not in found["silenced"]
    assert set(production_settings()["silenced"]) == {
        "security.W009",
        "security.W005",
        "security.W021",
    }


def test_hsts_opt_ins_reach_the_header(db, settings):
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    response = Client().get("/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_cookies_are_secure_and_host_prefixed():
    found = production_settings()

    assert found["session_cookie"] == ["__Host-sessionid", True]
    assert found["csrf_cookie"] == ["__Host-csrftoken", True]


def test_production_believes_no_proxy_header_unless_proxies_are_trusted():
    assert production_settings()["proxy_header"] is None
    assert production_settings(TRUSTED_PROXY_COUNT="1")["proxy_header"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


def test_production_keeps_database_connections_and_checks_them_before_use():
    found = production_settings()

    assert found["conn_max_age"] == 60
    assert found["conn_health_checks"] is True
    assert production_settings(CONN_MAX_AGE="5")["conn_max_age"] == 5


def test_production_prepares_repeated_statements_unless_a_pooler_cannot_keep_them():
    options = production_settings()["database_options"]

    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    behind_a_pooler = production_settings(DATABASE_PREPARED_STATEMENTS="0")["database_options"]
    assert "server_side_binding" not in behind_a_pooler
    assert "prepare_threshold" not in behind_a_pooler


def test_development_opens_a_connection_per_request():
    found = production_settings(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None)

    # runserver's thread per request would otherwise pile up open connections.
    assert found["conn_max_age"] == 0
    assert found["redirect"] is False
    assert found["hsts"] == 0
    assert found["session_cookie"] == ["sessionid", False]


def test_production_serves_hashed_compressed_static_files_and_development_the_sources():
    production = production_settings()
    development = production_settings(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None)

    assert production["static_storage"].endswith("CompressedManifestStaticFilesStorage")
    assert production["finders"] is False
    assert development["static_storage"].endswith(".StaticFilesStorage")
    assert development["finders"] is True


def test_plain_http_is_an_explicit_choice_that_turns_off_redirect_hsts_and_secure_cookies():
    found = production_settings(DJANGO_ALLOW_PLAIN_HTTP="1")

    assert found["redirect"] is False
    assert found["hsts"] == 0
    assert found["session_cookie"] == ["sessionid", False]
    assert found["csrf_cookie"] == ["csrftoken", False]


def test_the_deploy_checks_pass_on_the_required_variables_alone_once_static_is_collected(
    tmp_path,
):
    def deploy_check(**env: str) -> subprocess.CompletedProcess:
        return run_python(
            "manage.py", "check", "--deploy", "--fail-level", "WARNING",
            **PRODUCTION, STATIC_ROOT=str(tmp_path), **env,
        )  # fmt: skip

    before = deploy_check()
    collected = run_python("manage.py", "collectstatic", "--noinput", **PRODUCTION,
                           STATIC_ROOT=str(tmp_path))  # fmt: skip
    after = deploy_check()
    plain_http = deploy_check(DJANGO_ALLOW_PLAIN_HTTP="1")

    # Before collectstatic, the one thing left to do is named, and stops CI.
    assert before.returncode == 1
    assert re.findall(r"\((\S+?)\)", before.stderr) == ["securityportal.W008"]
    assert collected.returncode == 0, collected.stderr
    assert after.returncode == 0, after.stderr
    assert "System check identified no issues" in after.stdout
    # The opt-out is clean at WARNING but still reported, as an Info.
    assert plain_http.returncode == 0, plain_http.stderr
    assert "securityportal.I001" in plain_http.stderr
    # A guessable key stops the start itself, not only CI.
    weak = run_python(
        "manage.py", "check", "--deploy",
        **{**PRODUCTION, "DJANGO_SECRET_KEY": "short"}, STATIC_ROOT=str(tmp_path),
    )  # fmt: skip
    assert weak.returncode == 1
    assert "(securityportal.E001) DJANGO_SECRET_KEY is too short" in weak.stderr
    assert "security.W009" not in weak.stderr


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem", "dummy"])
def test_deploy_checks_warn_of_security_e_mails_kept_on_the_server(tmp_path, backend):
    mail = f"django.core.mail.backends.{backend}.EmailBackend"
    checked = run_python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION,
        STATIC_ROOT=str(tmp_path), EMAIL_BACKEND=mail,
    )  # fmt: skip

    assert checked.returncode == 1
    assert "(securityportal.W006) EMAIL_BACKEND is" in checked.stderr


def test_deploy_checks_warn_when_e_mail_links_would_name_the_requests_host(tmp_path):
    def warnings(**env: str) -> str:
        return run_python(
            "manage.py", "check", "--deploy", **{**PRODUCTION, **env}, STATIC_ROOT=str(tmp_path)
        ).stderr  # fmt: skip

    several = warnings(DJANGO_ALLOWED_HOSTS="portal.example.com,legacy.example.net")
    subdomains = warnings(DJANGO_ALLOWED_HOSTS=".example.com")
    named = warnings(
        DJANGO_ALLOWED_HOSTS="portal.example.com,legacy.example.net",
        PUBLIC_URL="https://portal.example.com",
    )

    elsewhere = warnings(PUBLIC_URL="http://localhost:8000")
    spelled_otherwise = [
        warnings(
            DJANGO_ALLOWED_HOSTS="portal.example.com", PUBLIC_URL="https://portal.example.com."
        ),
        warnings(DJANGO_ALLOWED_HOSTS="[2001:db8::1]", PUBLIC_URL="https://[2001:db8::1]:8443"),
    ]

    assert "securityportal.W010" in several
    assert "securityportal.W010" in subdomains
    assert "securityportal.W010" not in named
    assert "securityportal.W010" not in warnings()
    assert "securityportal.W010" in elsewhere
    assert ["securityportal.W010" in found for found in spelled_otherwise] == [False, False]


def container_command() -> tuple[list[str], str]:
    """The image's deploy check, and what it runs when the check passes."""
    [cmd] = [
        line
        for line in (PROJECT / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD ")
    ]
    shell, flag, script = json.loads(cmd.removeprefix("CMD "))
    assert (shell, flag) == ("sh", "-c")
    check, serve = script.split(" && ")
    return shlex.split(check), serve


def example_environment() -> dict[str, str]:
    lines = (PROJECT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_container_refuses_to_serve_with_the_example_environments_placeholder_key(
    tmp_path,
):
    check, serve = container_command()
    assert check[:2] == ["python", "manage.py"]

    placeholder = run_python(*check[1:], **example_environment(), STATIC_ROOT=str(tmp_path))
    filled_in = run_python(*check[1:], **PRODUCTION, STATIC_ROOT=str(tmp_path))

    assert placeholder.returncode == 1
    assert "securityportal.E001" in placeholder.stderr
    assert filled_in.returncode == 0, filled_in.stderr
    assert serve.startswith("exec gunicorn --config gunicorn.conf.py")


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        ({"CSRF_TRUSTED_ORIGINS": "portal.example.com"}, "https://HOST[:PORT]"),
        ({"CSRF_TRUSTED_ORIGINS": "https://portal.example.com/login"}, "no path"),
        ({"SECURE_HSTS_PRELOAD": "1"}, "SECURE_HSTS_INCLUDE_SUBDOMAINS=1"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "not a whole number"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "set it to 1 or 0"),
    ],
)
def test_a_bad_transport_setting_stops_the_start_naming_the_fix(env, fix):
    loaded = run_python("-c", SETTINGS_DUMP, **{**PRODUCTION, **env})

    assert loaded.returncode != 0
    assert "ImproperlyConfigured" in loaded.stderr
    assert fix in loaded.stderr


def test_a_plain_http_request_is_redirected_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/login/?next=/settings/security/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/?next=/settings/security/"


def test_a_request_a_trusted_proxy_forwarded_over_https_is_not_redirected(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_a_form_posted_from_a_trusted_origin_is_accepted_and_from_another_refused(db, settings):
    assert production_settings(CSRF_TRUSTED_ORIGINS="https://www.example.com")[
        "csrf_trusted_origins"
    ] == ["https://www.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.com"]
    browser = Client(enforce_csrf_checks=True)
    browser.get("/login/", secure=True)
    form = {
        "username": "nobody",
        "password": "not the password",
        "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME].value,
    }

    trusted = browser.post("/login/", form, secure=True, HTTP_ORIGIN="https://www.example.com")
    # Cross-site request forgery from a site the operator did not name.
    forged = browser.post("/login/", form, secure=True, HTTP_ORIGIN="https://evil.example")

    # The sign-in was answered on its merits (a wrong password), not refused.
    assert trusted.status_code == 200
    assert b"The username or password is incorrect." in trusted.content
    assert forged.status_code == 403
    assert b"The username or password is incorrect." not in forged.content


def test_every_answer_carries_the_browser_protections(db):
    response = Client().get("/login/", secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert set(response["Content-Security-Policy"].split("; ")) == STRICT_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_signed_in_pages_are_never_stored_and_run_under_the_strict_policy(alice):
    browser = https_browser(alice)

    for path in ("/settings/security/", "/account/security/"):
        response = browser.get(path, secure=True)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert set(response["Content-Security-Policy"].split("; ")) == STRICT_POLICY, path


def test_api_answers_are_never_stored(alice):
    tokens = api_login(alice)

    response = bearer(tokens["access"]).get("/api/auth/sessions", secure=True)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_signing_in_sets_host_prefixed_secure_cookies(alice):
    browser = Client()

    response = browser.post("/login/", {"username": "alice", "password": PASSWORD}, secure=True)

    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["path"] == "/"
    assert session["domain"] == ""
    csrf = browser.get("/settings/security/", secure=True).cookies["__Host-csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    assert csrf["path"] == "/"
    assert csrf["domain"] == ""


def test_signing_out_in_the_browser_clears_the_sites_cache_and_storage(alice):
    browser = https_browser(alice)

    response = browser.post("/logout/", secure=True)

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert response.cookies["__Host-sessionid"].value == ""


def test_signing_out_through_the_api_clears_the_sites_cache_and_storage(alice):
    tokens = api_login(alice)

    response = bearer(tokens["access"]).post("/api/auth/logout", secure=True)

    assert response.status_code == 204
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_the_redoc_page_alone_allows_inline_styles_and_never_inline_scripts(db):
    redoc = Client().get("/api/redoc/", secure=True)
    swagger = Client().get("/api/docs/", secure=True)

    redoc_policy = set(redoc["Content-Security-Policy"].split("; "))
    assert "style-src 'self' 'unsafe-inline'" in redoc_policy
    assert "script-src 'self'" in redoc_policy
    assert set(swagger["Content-Security-Policy"].split("; ")) == STRICT_POLICY
    assert b"<script>" not in swagger.content
    assert b"<style>" not in swagger.content
    assert b"<style>" not in redoc.content
