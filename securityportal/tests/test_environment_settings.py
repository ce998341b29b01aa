"""Every limit the spec names, and the e-mail server, are read from the environment
(SPEC §7: "Every one of these is an environment setting")."""

import json

import pytest

from conftest import run_python

DUMP = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in %r}))
"""

# Each setting, what the environment says, and what the portal reads from it.
FROM_THE_ENVIRONMENT = {
    "LOGIN_FAILURE_LIMIT": ("7", 7),
    "LOGIN_LOCKOUT_MINUTES": ("20", 20),
    "LOGIN_ACCOUNT_FAILURES_PER_HOUR": ("250", 250),
    "LOGIN_RATE_PER_IP": ("30/min", [30, 60]),
    "SESSION_API_RATE": ("10/s", [10, 1]),
    "REAUTH_MINUTES": ("5", 5),
    "REFRESH_REUSE_GRACE_SECONDS": ("3", 3),
    "TRUSTED_PROXY_COUNT": ("2", 2),
    "ACCESS_TOKEN_SECONDS": ("120", 120),
    "NEW_DEVICE_LINK_HOURS": ("24", 24),
    "EMAIL_HOST": ("smtp.example.net", "smtp.example.net"),
    "EMAIL_PORT": ("587", 587),
    "EMAIL_HOST_USER": ("portal", "portal"),
    "EMAIL_USE_TLS": ("1", True),
    "EMAIL_TIMEOUT": ("4", 4),
}


def settings_read(**env: str | None) -> dict:
    names = sorted(FROM_THE_ENVIRONMENT)
    loaded = run_python("-c", DUMP % names, **env)
    assert loaded.returncode == 0, loaded.stderr
    return json.loads(loaded.stdout)


def test_each_limit_and_the_mail_server_is_read_from_the_environment():
    read = settings_read(**{name: raw for name, (raw, _) in FROM_THE_ENVIRONMENT.items()})

    assert read == {name: value for name, (_, value) in FROM_THE_ENVIRONMENT.items()}


def test_an_smtp_call_gives_up_after_ten_seconds_unless_told_otherwise():
    # A mail server that accepts the connection and then says nothing must not hold
    # a sign-in until gunicorn kills the worker.
    assert settings_read(EMAIL_TIMEOUT=None)["EMAIL_TIMEOUT"] == 10


def test_starttls_and_tls_from_the_start_together_are_refused_naming_both():
    loaded = run_python("-c", DUMP % ["EMAIL_HOST"], EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")

    assert loaded.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are both on" in loaded.stderr


def test_a_mail_port_no_server_can_listen_on_is_refused_when_the_portal_starts():
    loaded = run_python("-c", DUMP % ["EMAIL_PORT"], EMAIL_PORT="65536")

    assert loaded.returncode != 0
    assert "EMAIL_PORT=65536 is above its maximum of 65535." in loaded.stderr


def test_a_log_level_is_read_in_any_case_and_an_unknown_one_is_refused_by_name():
    read = run_python("-c", DUMP % ["LOGGING"], LOG_LEVEL="Warning")
    pythons_own = run_python("-c", DUMP % ["LOGGING"], LOG_LEVEL="WARN")
    unknown = run_python("-c", DUMP % ["LOGGING"], LOG_LEVEL="LOUD")

    assert json.loads(read.stdout)["LOGGING"]["root"]["level"] == "WARNING"
    assert json.loads(pythons_own.stdout)["LOGGING"]["root"]["level"] == "WARN"
    assert unknown.returncode != 0
    assert "LOG_LEVEL='loud' is not known: set it to debug or info or warning" in unknown.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://:hunter2-secret@cache.example:6379/0", "REDIS_URL=http://… is not"),
        (":hunter2-secret@cache.example:6379/0", "REDIS_URL=a URL without a scheme is not"),
    ],
)
def test_a_redis_url_that_is_no_redis_address_is_refused_without_its_password(url, said):
    loaded = run_python("-c", DUMP % ["REDIS_URL"], REDIS_URL=url)

    assert loaded.returncode != 0
    assert said in loaded.stderr
    assert "a Redis address: write redis://host:6379/0" in loaded.stderr
    assert "hunter2-secret" not in loaded.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        (
            {"DEVICE_COOKIE_DAYS": "1000000000"},
            "DEVICE_COOKIE_DAYS=1000000000 is above its maximum of 400.",
        ),
        (
            {"ACCESS_TOKEN_SECONDS": "1000000000000"},
            "ACCESS_TOKEN_SECONDS=1000000000000 is above its maximum of 86400.",
        ),
        (
            {"REAUTH_MINUTES": "100000000000"},
            "REAUTH_MINUTES=100000000000 is above its maximum of 1440.",
        ),
        ({"JWT_AUDIENCE": ""}, "JWT_AUDIENCE is blank"),
        ({"JWT_ISSUER": "  "}, "JWT_ISSUER is blank"),
        (
            {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackned"},
            "EMAIL_BACKEND='django.core.mail.backends.smtp.EmailBackned' cannot be imported",
        ),
        ({"EMAIL_BACKEND": ""}, "EMAIL_BACKEND='' cannot be imported"),
    ],
    ids=[
        "device-cookie-for-ever",
        "access-token-for-ever",
        "reauth-for-ever",
        "blank-audience",
        "blank-issuer",
        "misspelt-mail-backend",
        "blank-mail-backend",
    ],
)
def test_a_value_every_sign_in_or_api_call_would_fail_on_is_refused_at_start(env, said):
    # A cookie date past the year 9999 or a token that expires after it, an audience
    # no token can carry, a mail backend that is never imported: each would start,
    # then fail every sign-in (a 500), every API call (401) or every security e-mail.
    loaded = run_python("-c", DUMP % ["EMAIL_BACKEND"], **env)

    assert loaded.returncode != 0
    assert "ImproperlyConfigured" in loaded.stderr
    assert said in loaded.stderr


def test_security_e_mails_go_to_the_console_only_in_development():
    # The console is the server's log: a new-device e-mail carries a one-click link
    # that signs a session out, which no log should hold.
    development = run_python("-c", DUMP % ["EMAIL_BACKEND"], DJANGO_DEBUG="1")
    production = run_python("-c", DUMP % ["EMAIL_BACKEND"])

    assert json.loads(development.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
    assert json.loads(production.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"
    }
