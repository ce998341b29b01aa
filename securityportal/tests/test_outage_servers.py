"""Faults, on a real server: PostgreSQL stopped under a running gunicorn, then started
again; Redis killed under it. The PostgreSQL is a private cluster of this module's own
(the server every other test uses is never stopped), the Redis a private redis-server."""

import psycopg
import pytest

from conftest import provision_owner, run_python
from securityportal.tests.servers import (
    HttpClient,
    PrivateCluster,
    Server,
    api_sign_in,
    api_signed_in,
    assert_browser_refused,
    browser_session_id,
    browser_signed_in,
    private_cluster,
    private_redis,
    servers_in,
)

pytestmark = pytest.mark.postgres_only

PASSWORD = "tangerine lighthouse gravel"
FAILURE_LIMIT = 3


@pytest.fixture(scope="module")
def cluster():
    with private_cluster() as running:
        with psycopg.connect(running.url("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE portal")
        provision_owner(running.url("portal"), PASSWORD)
        created = run_python(
            "manage.py", "create_user", "bob", "--account=Acme", "--email=bob@acme.example",
            "--noinput", DATABASE_URL=running.url("portal"), PORTAL_PASSWORD=PASSWORD,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        yield running


@pytest.fixture
def redis_server():
    with private_redis() as running:
        yield running


@pytest.fixture
def server(cluster, redis_server, tmp_path):
    _, redis_url = redis_server
    with servers_in(tmp_path) as started:
        yield started.start(
            cluster.url("portal"), redis_url, LOGIN_FAILURE_LIMIT=str(FAILURE_LIMIT)
        )


def assert_friendly_unavailable_page(answer, server: Server) -> None:
    assert answer.status == 503, server.log_tail()
    assert answer.headers["Content-Type"].startswith("text/html")
    # The site's own layout, not a bare server error or a stack trace.
    assert b'class="site-header"' in answer.body
    assert b"Traceback" not in answer.body
    assert "Retry-After" in answer.headers


def assert_unavailable_json(answer, server: Server) -> None:
    assert answer.status == 503, server.log_tail()
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["code"] == "service_unavailable"
    assert answer.json()["detail"]
    assert "Retry-After" in answer.headers


def test_with_postgresql_down_pages_and_api_answer_503_and_service_resumes_by_itself(
    cluster: PrivateCluster, server: Server
):
    browser = browser_signed_in(server, PASSWORD)
    api, _ = api_signed_in(server, PASSWORD)
    assert browser.get(f"{server.url}/settings/security/").status == 200
    assert api.get(f"{server.url}/api/auth/sessions").status == 200

    cluster.stop()
    try:
        assert_friendly_unavailable_page(browser.get(f"{server.url}/settings/security/"), server)
        assert_unavailable_json(api.get(f"{server.url}/api/auth/sessions"), server)
        assert_unavailable_json(api_sign_in(server, PASSWORD), server)
        ready = HttpClient().get(f"{server.url}/readyz")
        assert ready.status == 503
        assert ready.json() == {"database": "unavailable", "redis": "ok", "down": ["database"]}
        assert HttpClient().get(f"{server.url}/healthz").status == 200
    finally:
        cluster.start()

    # The same process, not restarted, serves again from the next request on.
    assert HttpClient().get(f"{server.url}/readyz").json() == {"database": "ok", "redis": "ok"}
    assert browser.get(f"{server.url}/settings/security/").status == 200
    assert api.get(f"{server.url}/api/auth/sessions").status == 200
    assert api_sign_in(server, PASSWORD).status == 200


def test_with_redis_down_a_revoked_session_stays_refused_and_a_lockout_holds(
    redis_server, server: Server
):
    browser = browser_signed_in(server, PASSWORD, username="bob")
    api, api_session_id = api_signed_in(server, PASSWORD, username="bob")
    manager, _ = api_signed_in(server, PASSWORD, username="bob")
    # Served twice each: the second time from the session cache in Redis.
    for _ in range(2):
        assert browser.get(f"{server.url}/session/status/").status == 200
        assert api.get(f"{server.url}/api/auth/me").status == 200
    for _ in range(FAILURE_LIMIT):
        assert api_sign_in(server, "not the password", username="alice").status == 401
    assert api_sign_in(server, PASSWORD, username="alice").status == 429

    process, _ = redis_server
    process.kill()
    process.wait()

    ready = HttpClient().get(f"{server.url}/readyz")
    assert ready.status == 503
    assert ready.json() == {"database": "ok", "redis": "unavailable", "down": ["redis"]}
    # Revoked while Redis is down (no cache entry can be invalidated)...
    revoked = manager.delete(
        f"{server.url}/api/auth/sessions/{browser_session_id(manager, server)}"
    )
    assert revoked.status == 204, server.log_tail()
    assert manager.delete(f"{server.url}/api/auth/sessions/{api_session_id}").status == 204
    # ...and refused on the very next request, from the database.
    assert_browser_refused(browser, server)
    assert api.get(f"{server.url}/api/auth/me").status == 401
    # The lockout reached before the outage still holds, and the right password
    # does not lift it.
    locked = api_sign_in(server, PASSWORD, username="alice")
    assert locked.status == 429, server.log_tail()
    assert locked.json()["code"] == "locked_out"
    # Everyone else signs in as usual.
    assert api_sign_in(server, PASSWORD, username="bob").status == 200
    assert manager.get(f"{server.url}/api/auth/me").status == 200
