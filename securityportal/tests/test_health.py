"""The probes: /healthz answers without the database or Redis, /readyz names each
dependency's state. A real PostgreSQL outage is in test_outage_servers.py."""

import os

import pytest
from django.test import Client

from conftest import empty_redis, free_port, run_python

# Redis database 9, emptied by the tests (SCALE_TEST_REDIS_URL to change it).
REDIS_TEST_URL = os.environ.get("SCALE_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def without_redis(settings):
    settings.REDIS_URL = ""


def test_healthz_answers_without_touching_the_database():
    # No db fixture: pytest-django refuses any query this request would make.
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_never_cached():
    response = Client().get("/healthz")

    assert "no-store" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_healthz_only_answers_reads():
    assert Client().post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_reports_the_database_up_and_redis_not_configured(without_redis):
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "not configured"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_redis_up_when_it_answers(settings):
    with empty_redis(REDIS_TEST_URL):
        settings.REDIS_URL = REDIS_TEST_URL
        response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_nothing_answers_at_its_url(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/9"

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "unavailable", "down": ["redis"]}


@pytest.mark.django_db
def test_probes_need_no_sign_in_and_ignore_a_stale_session_cookie(without_redis):
    # A probe never signs in; a stale cookie (a browser opening the URL) changes nothing.
    visitor = Client()
    visitor.cookies["sessionid"] = "not-a-session"

    assert visitor.get("/healthz").status_code == 200
    assert visitor.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_probes_are_never_rate_limited(settings, without_redis):
    settings.SESSION_API_RATE = (1, 60)
    settings.LOGIN_RATE_PER_IP = (1, 60)
    probe = Client()

    answers = [probe.get(path).status_code for path in ("/readyz", "/healthz") * 5]

    assert answers == [200] * 10


@pytest.mark.django_db
def test_probes_answer_over_plain_http_where_pages_redirect_to_https(settings, without_redis):
    # TLS ends at the load balancer; its probes reach the process over plain HTTP.
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/login/").status_code == 301
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200


def test_a_postgresql_connection_attempt_gives_up_after_database_connect_timeout():
    # A database host that drops packets must not hold /readyz (and every request)
    # for the operating system's TCP timeout.
    shown = run_python(
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['connect_timeout'])",
        DATABASE_URL="postgres://portal@db.internal:5432/portal",
        DATABASE_CONNECT_TIMEOUT="3",
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "3"
