"""Configuration from the environment: the typed readers, and settings.py refusing to
start with a dangerous or contradictory environment."""

import json
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from conftest import run_python
from securityportal.env import bounded_minutes, envbool, envint, envlist, envstr

PROBE = (
    "import django; from django.conf import settings; settings.INSTALLED_APPS; "
    "print(settings.SESSION_IDLE_MINUTES_DEFAULT, settings.SESSION_ABSOLUTE_MINUTES_DEFAULT)"
)


# envbool


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_envbool_reads_true(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_FLAG", raw)

    assert envbool("PORTAL_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_envbool_reads_false(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_FLAG", raw)

    assert envbool("PORTAL_FLAG", True) is False


def test_envbool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("PORTAL_FLAG", raising=False)

    assert envbool("PORTAL_FLAG", True) is True
    assert envbool("PORTAL_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_envbool_refuses_anything_else_and_says_what_to_write(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_FLAG", raw)

    with pytest.raises(ImproperlyConfigured) as error:
        envbool("PORTAL_FLAG", False)

    assert f"PORTAL_FLAG={raw!r}" in str(error.value)
    assert "set it to 1 or 0" in str(error.value)


# envint


def test_envint_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv("PORTAL_COUNT", " 42 ")

    assert envint("PORTAL_COUNT", 7) == 42


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_envint_uses_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("PORTAL_COUNT", raising=False)
    else:
        monkeypatch.setenv("PORTAL_COUNT", raw)

    assert envint("PORTAL_COUNT", 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "5m"])
def test_envint_refuses_what_is_not_a_whole_number(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_COUNT", raw)

    with pytest.raises(ImproperlyConfigured, match=r"PORTAL_COUNT=.* is not a whole number"):
        envint("PORTAL_COUNT", 7)


def test_envint_refuses_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv("PORTAL_COUNT", "-1")

    with pytest.raises(ImproperlyConfigured, match="PORTAL_COUNT=-1 is below its minimum of 0"):
        envint("PORTAL_COUNT", 7)


def test_envint_refuses_a_value_above_its_maximum(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", "70000")

    with pytest.raises(
        ImproperlyConfigured, match="EMAIL_PORT=70000 is above its maximum of 65535"
    ):
        envint("EMAIL_PORT", 25, minimum=1, maximum=65535)


def test_envint_accepts_its_minimum(monkeypatch):
    monkeypatch.setenv("PORTAL_COUNT", "30")

    assert envint("PORTAL_COUNT", 300, minimum=30) == 30


# envlist and envstr


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("PORTAL_HOSTS", " portal.example , admin.portal.example,, ")

    assert envlist("PORTAL_HOSTS", ["default.example"]) == [
        "portal.example",
        "admin.portal.example",
    ]


def test_envlist_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("PORTAL_HOSTS", raising=False)

    assert envlist("PORTAL_HOSTS", ["default.example"]) == ["default.example"]


def test_envlist_of_an_empty_value_is_empty(monkeypatch):
    monkeypatch.setenv("PORTAL_HOSTS", "")

    assert envlist("PORTAL_HOSTS", ["default.example"]) == []


def test_envstr_reads_the_value_or_the_default(monkeypatch):
    monkeypatch.setenv("PORTAL_NAME", "Security Portal")
    monkeypatch.delenv("PORTAL_OTHER", raising=False)

    assert envstr("PORTAL_NAME", "x") == "Security Portal"
    assert envstr("PORTAL_OTHER", "x") == "x"


# bounded_minutes


@pytest.fixture
def no_limit_overrides(monkeypatch):
    for suffix in ("DEFAULT", "MIN", "MAX"):
        monkeypatch.delenv(f"PORTAL_IDLE_{suffix}", raising=False)
    return monkeypatch


def test_bounded_minutes_uses_the_built_in_values_when_unset(no_limit_overrides):
    assert bounded_minutes("PORTAL_IDLE", 60, 5, 43200) == (60, 5, 43200)


def test_bounded_minutes_reads_all_three_from_the_environment(no_limit_overrides):
    no_limit_overrides.setenv("PORTAL_IDLE_DEFAULT", "30")
    no_limit_overrides.setenv("PORTAL_IDLE_MIN", "10")
    no_limit_overrides.setenv("PORTAL_IDLE_MAX", "120")

    assert bounded_minutes("PORTAL_IDLE", 60, 5, 43200) == (30, 10, 120)


@pytest.mark.parametrize("default", ["4", "43201"])
def test_bounded_minutes_refuses_a_default_outside_its_bounds(no_limit_overrides, default):
    no_limit_overrides.setenv("PORTAL_IDLE_DEFAULT", default)

    with pytest.raises(ImproperlyConfigured) as error:
        bounded_minutes("PORTAL_IDLE", 60, 5, 43200)

    message = str(error.value)
    assert f"PORTAL_IDLE_DEFAULT={default}" in message
    assert "PORTAL_IDLE_MIN=5" in message
    assert "PORTAL_IDLE_MAX=43200" in message


def test_bounded_minutes_refuses_a_default_below_a_raised_minimum(no_limit_overrides):
    no_limit_overrides.setenv("PORTAL_IDLE_MIN", "90")

    with pytest.raises(ImproperlyConfigured, match="PORTAL_IDLE_DEFAULT=60 must lie between"):
        bounded_minutes("PORTAL_IDLE", 60, 5, 43200)


def test_bounded_minutes_refuses_zero_minutes(no_limit_overrides):
    no_limit_overrides.setenv("PORTAL_IDLE_MIN", "0")

    with pytest.raises(ImproperlyConfigured, match="PORTAL_IDLE_MIN=0 is below its minimum"):
        bounded_minutes("PORTAL_IDLE", 60, 5, 43200)


# settings.py, loaded in a fresh interpreter with the environment under test


def load_settings(**overrides: str | None) -> subprocess.CompletedProcess:
    return run_python("-c", PROBE, **overrides)


def test_settings_load_from_a_good_environment():
    result = load_settings(DJANGO_ALLOWED_HOSTS="portal.example", JWT_SIGNING_KEY="k" * 32)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60", "10080"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is not set"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS must name the hosts"),
        ({"DJANGO_ALLOWED_HOSTS": "portal.example, *"}, "DJANGO_ALLOWED_HOSTS must name"),
        ({"SESSION_IDLE_MINUTES_DEFAULT": "2"}, "SESSION_IDLE_MINUTES_DEFAULT=2 must lie"),
        (
            {"SESSION_IDLE_MINUTES_DEFAULT": "600", "SESSION_ABSOLUTE_MINUTES_DEFAULT": "300"},
            "SESSION_IDLE_MINUTES_DEFAULT may not exceed SESSION_ABSOLUTE_MINUTES_DEFAULT",
        ),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"JWT_SIGNING_KEY": "k" * 31}, "JWT_SIGNING_KEY must be at least 32 characters"),
    ],
    ids=[
        "no-secret-key",
        "wildcard-host",
        "wildcard-among-hosts",
        "idle-below-min",
        "idle-above-absolute",
        "debug-not-a-boolean",
        "short-jwt-key",
    ],
)
def test_settings_refuse_a_bad_environment_naming_the_variable(overrides, message):
    result = load_settings(**overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


# The database settings


DATABASE_PROBE = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)


def load_database(**overrides: str | None) -> dict:
    result = run_python("-c", DATABASE_PROBE, **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_sqlite_database_url_gets_the_same_options_as_sqlite_path(tmp_path):
    # Without them a server on DATABASE_URL=sqlite:///… answers concurrent writes
    # with 500 "database is locked" (deferred transactions, no busy timeout).
    path = str(tmp_path / "portal.sqlite3")

    by_url = load_database(DATABASE_URL=f"sqlite:///{path}")
    by_path = load_database(SQLITE_PATH=path)

    assert by_url["ENGINE"] == by_path["ENGINE"] == "django.db.backends.sqlite3"
    assert by_url["NAME"] == by_path["NAME"] == path
    assert by_url["OPTIONS"] == by_path["OPTIONS"]
    assert by_url["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert by_url["OPTIONS"]["timeout"] == 20
    assert "PRAGMA journal_mode=WAL;" in by_url["OPTIONS"]["init_command"]
    assert by_url["CONN_MAX_AGE"] == by_path.get("CONN_MAX_AGE", 0) == 0


def test_an_option_in_a_sqlite_database_url_overrides_the_default(tmp_path):
    options = load_database(DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}?timeout=60")[
        "OPTIONS"
    ]

    assert options["timeout"] == 60
    assert options["transaction_mode"] == "IMMEDIATE"


def test_a_postgres_database_url_keeps_connections_and_gets_no_sqlite_options():
    database = load_database(DATABASE_URL="postgres://portal:secret@db.example:5432/portal")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 60
    assert "transaction_mode" not in database.get("OPTIONS", {})
    assert "init_command" not in database.get("OPTIONS", {})


def test_settings_refuse_a_database_url_of_an_unknown_scheme_naming_both_forms():
    result = run_python("-c", DATABASE_PROBE, DATABASE_URL="sqlite3:///portal.sqlite3")

    assert result.returncode != 0
    assert "DATABASE_URL is not a database URL" in result.stderr
    assert "sqlite:////ABSOLUTE/PATH" in result.stderr
