"""The portal's own deploy checks (accounts/checks.py): each fires on the unsafe
setting, naming the fix, and is silent on production's defaults."""

import pytest
from django.core import checks

from accounts import checks as portal_checks


def ids(found: list[checks.CheckMessage]) -> list[str]:
    return [message.id for message in found]


@pytest.fixture
def production(settings):
    """The settings production gets from its defaults (the suite turns the redirect
    off for its plain-HTTP test client, and keeps e-mails in memory)."""
    settings.SECRET_KEY = "a-production-key-of-more-than-fifty-random-characters-0123456789"
    settings.ALLOW_PLAIN_HTTP = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_SECURE = True
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.JWT_SIGNING_KEY = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    return settings


def test_production_defaults_pass_every_portal_check(production):
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])

    assert [i for i in ids(found) if i.startswith("securityportal.")] == []


def test_a_session_cookie_without_secure_is_reported(production):
    production.SESSION_COOKIE_SECURE = False
    production.SESSION_COOKIE_NAME = "sessionid"

    found = ids(portal_checks.session_cookie(None))

    assert "securityportal.W002" in found
    assert "securityportal.W005" in found


def test_a_session_cookie_readable_by_scripts_is_reported(production):
    production.SESSION_COOKIE_HTTPONLY = False

    assert ids(portal_checks.session_cookie(None)) == ["securityportal.W003"]


@pytest.mark.parametrize("samesite", ["None", None, False])
def test_a_session_cookie_sent_cross_site_is_reported(production, samesite):
    production.SESSION_COOKIE_SAMESITE = samesite

    assert ids(portal_checks.session_cookie(None)) == ["securityportal.W004"]


def test_a_strict_samesite_session_cookie_passes(production):
    production.SESSION_COOKIE_SAMESITE = "Strict"

    assert portal_checks.session_cookie(None) == []


def test_a_csrf_cookie_without_the_host_prefix_is_reported(production):
    production.CSRF_COOKIE_NAME = "csrftoken"

    found = portal_checks.session_cookie(None)

    assert ids(found) == ["securityportal.W005"]
    assert "__Host-csrftoken" in found[0].hint


def test_a_host_prefixed_cookie_with_a_domain_is_reported_as_refused_by_browsers(production):
    production.SESSION_COOKIE_DOMAIN = ".example.com"

    found = portal_checks.session_cookie(None)

    assert ids(found) == ["securityportal.W005"]
    assert "browsers will refuse it" in found[0].msg


def test_plain_http_opt_out_silences_the_cookie_and_https_checks_but_says_so(production):
    production.ALLOW_PLAIN_HTTP = True
    production.SECURE_SSL_REDIRECT = False
    production.SECURE_HSTS_SECONDS = 0
    production.SESSION_COOKIE_SECURE = False
    production.SESSION_COOKIE_NAME = "sessionid"
    production.CSRF_COOKIE_SECURE = False
    production.CSRF_COOKIE_NAME = "csrftoken"

    assert portal_checks.session_cookie(None) == []
    found = portal_checks.https_only(None)
    assert ids(found) == ["securityportal.I001"]
    assert found[0].level == checks.INFO


@pytest.mark.parametrize("setting", ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"])
def test_https_turned_off_without_the_opt_out_is_reported(production, setting):
    setattr(production, setting, 0)

    found = portal_checks.https_only(None)

    assert ids(found) == ["securityportal.W009"]
    assert setting in found[0].msg
    assert "DJANGO_ALLOW_PLAIN_HTTP=1" in found[0].hint


def test_https_on_passes(production):
    assert portal_checks.https_only(None) == []


def test_a_short_jwt_signing_key_is_an_error(production):
    production.JWT_SIGNING_KEY = "k" * 31

    found = portal_checks.jwt_signing_key(None)

    assert ids(found) == ["securityportal.E002"]
    assert found[0].level == checks.ERROR


@pytest.mark.parametrize(
    "key",
    [
        "short",
        "a" * 60,
        "abcd" * 20,
        "django-insecure-" + "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1l0z9x8c7",
        "k" * 49,
    ],
    ids=["short", "one-character", "four-characters", "django-insecure", "49-characters"],
)
def test_a_weak_secret_key_is_an_error_naming_how_to_make_one(production, key):
    production.SECRET_KEY = key

    found = portal_checks.secret_key(None)

    assert ids(found) == ["securityportal.E001"]
    assert found[0].level == checks.ERROR
    assert "secrets.token_urlsafe(50)" in found[0].hint


def test_a_long_random_secret_key_passes(production):
    assert portal_checks.secret_key(None) == []


def test_a_long_or_derived_jwt_signing_key_passes(production):
    assert portal_checks.jwt_signing_key(None) == []
    production.JWT_SIGNING_KEY = "k" * 32
    assert portal_checks.jwt_signing_key(None) == []


def test_trusted_proxies_without_the_https_header_are_reported(production):
    production.TRUSTED_PROXY_COUNT = 1

    found = portal_checks.proxy_headers(None)

    assert ids(found) == ["securityportal.W007"]
    assert "SECURE_PROXY_SSL_HEADER is unset" in found[0].msg


def test_an_https_header_believed_without_a_proxy_is_reported(production):
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    found = portal_checks.proxy_headers(None)

    assert ids(found) == ["securityportal.W007"]
    assert "any client can send that header" in found[0].msg


def test_trusted_proxies_with_the_https_header_pass(production):
    production.TRUSTED_PROXY_COUNT = 1
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert portal_checks.proxy_headers(None) == []


def test_counters_in_process_memory_are_reported_with_several_workers(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setenv("WEB_CONCURRENCY", "4")

    assert ids(portal_checks.shared_counters(None)) == ["securityportal.W001"]


def test_counters_in_process_memory_pass_with_the_single_default_worker(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)

    assert portal_checks.shared_counters(None) == []


def test_static_files_never_collected_are_reported(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "securityportal.storage.CompressedManifestStaticFilesStorage"},
    }

    found = portal_checks.static_manifest(None)

    assert ids(found) == ["securityportal.W008"]
    assert "collectstatic" in found[0].hint
