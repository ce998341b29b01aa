"""Real server processes sharing one PostgreSQL database and one Redis: a session revoked
through one process is refused by another on its very next request, although both
had it cached (SPEC §4 rule 4); and a process that cannot reach Redis serves from
the database and refuses revoked sessions too."""

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from conftest import (
    PROJECT,
    empty_redis,
    free_port,
    provision_owner,
    server_environment,
    wait_until_listening,
)

pytestmark = pytest.mark.postgres_only

REDIS_TEST_URL = os.environ.get("SESSION_CACHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "tangerine lighthouse gravel"
SERVER_START_SECONDS = 20
REQUEST_TIMEOUT_SECONDS = 15


def postgres_url(name: str) -> str:
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def admin_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def database_url():
    """A PostgreSQL database of its own, migrated, with alice owning Acme."""
    name = f"sp_two_servers_{secrets.token_hex(4)}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url(name)
    try:
        provision_owner(url, PASSWORD)
        yield url
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def shared_redis():
    with empty_redis(REDIS_TEST_URL) as client:
        yield client


@dataclass
class Server:
    url: str
    log: Path

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-30:])


@dataclass
class Started:
    servers: list[Server] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)


def start_server(started: Started, log_dir: Path, database_url: str, redis_url: str) -> Server:
    """A gunicorn process (one sync worker, as deployed) of the portal on a free port."""
    port = free_port()
    env = server_environment(
        # Plain HTTP here: the cookie must not be Secure, or it is never sent back.
        SESSION_COOKIE_SECURE="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    log_path = log_dir / f"server-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    # Several servers at once: none may take over the others' control socket.
    command += ["--no-control-socket", "securityportal.wsgi"]
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    started.processes.append(process)
    wait_until_listening(process, port, SERVER_START_SECONDS)
    server = Server(url=f"http://127.0.0.1:{port}", log=log_path)
    started.servers.append(server)
    return server


@pytest.fixture(scope="module")
def servers(database_url, shared_redis, tmp_path_factory):
    """Two processes sharing the database and Redis, and a third whose Redis is down
    (nothing listens on its port)."""
    started = Started()
    log_dir = tmp_path_factory.mktemp("servers")
    try:
        first = start_server(started, log_dir, database_url, REDIS_TEST_URL)
        second = start_server(started, log_dir, database_url, REDIS_TEST_URL)
        without_redis = start_server(started, log_dir, database_url, "redis://127.0.0.1:1/5")
        yield first, second, without_redis
    finally:
        for process in started.processes:
            process.terminate()
        for process in started.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class HttpClient:
    """A browser (its cookies, sent to every port of 127.0.0.1) or an API client (its
    bearer token), that never follows redirects."""

    def __init__(self, token: str | None = None) -> None:
        self.cookies = CookieJar()
        self.token = token
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, method: str, url: str, data: bytes | None = None, **headers) -> Answer:
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def copy(self) -> "HttpClient":
        """Another client with the same cookies: a refused cookie is deleted from the
        client that sent it, and the thief's copy would still be sent."""
        twin = HttpClient(self.token)
        for cookie in self.cookies:
            twin.cookies.set_cookie(cookie)
        return twin

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def delete(self, url: str) -> Answer:
        return self.request("DELETE", url)

    def post_json(self, url: str, body: dict) -> Answer:
        return self.request(
            "POST", url, json.dumps(body).encode(), **{"Content-Type": "application/json"}
        )


def browser_signed_in(server: Server) -> HttpClient:
    browser = HttpClient()
    form = browser.get(f"{server.url}/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    body = f"username=alice&password={PASSWORD}&csrfmiddlewaretoken={token.decode()}"
    answer = browser.request(
        "POST",
        f"{server.url}/login/",
        body.replace(" ", "+").encode(),
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 302, server.log_tail()
    assert any(cookie.name == "sessionid" for cookie in browser.cookies)
    return browser


def api_signed_in(server: Server) -> tuple[HttpClient, str]:
    """An API client with a fresh access token; and its session id."""
    answer = HttpClient().post_json(
        f"{server.url}/api/auth/login", {"username": "alice", "password": PASSWORD}
    )
    assert answer.status == 200, server.log_tail()
    tokens = answer.json()
    return HttpClient(tokens["access"]), tokens["session"]["id"]


def browser_session_id(api: HttpClient, server: Server) -> str:
    listed = api.get(f"{server.url}/api/auth/sessions").json()
    [browser] = [session for session in listed if session["kind"] == "browser"]
    return browser["id"]


def assert_browser_refused(browser: HttpClient, server: Server) -> None:
    answer = browser.get(f"{server.url}/session/status/")
    assert answer.status == 302, server.log_tail()
    assert answer.headers["Location"].startswith("/login/?reason=session_expired")


def cached_entries(redis_client: redis.Redis, kind: str) -> list[bytes]:
    return redis_client.keys(f"*session:{kind}:*:v*")


def test_a_session_revoked_through_one_process_is_refused_by_another_at_once(
    servers, shared_redis
):
    first, second, _ = servers
    browser = browser_signed_in(first)
    api, api_session_id = api_signed_in(second)
    # Both processes serve both sessions, twice: the second time from the cache.
    for _ in range(2):
        for server in (first, second):
            assert browser.get(f"{server.url}/session/status/").status == 200
            assert api.get(f"{server.url}/api/auth/me").status == 200
    assert len(cached_entries(shared_redis, "b")) == 1
    assert len(cached_entries(shared_redis, "a")) == 1

    # The browser session, revoked through the first process (by the API client)...
    revoked = api.delete(f"{first.url}/api/auth/sessions/{browser_session_id(api, first)}")
    assert revoked.status == 204, first.log_tail()
    # ...is refused by the second on its very next request (and by the first).
    stolen_copy = browser.copy()
    assert_browser_refused(browser, second)
    assert_browser_refused(stolen_copy, first)

    # The API session, revoked through the second process by another API session...
    other_api, _ = api_signed_in(first)
    assert other_api.get(f"{second.url}/api/auth/me").status == 200
    assert other_api.get(f"{first.url}/api/auth/me").status == 200
    revoked = other_api.delete(f"{second.url}/api/auth/sessions/{api_session_id}")
    assert revoked.status == 204, second.log_tail()
    # ...is refused by the first on its very next request.
    answer = api.get(f"{first.url}/api/auth/me")
    assert answer.status == 401
    assert answer.json()["code"] == "session_revoked"
    assert api.get(f"{second.url}/api/auth/me").status == 401
    # The session that did the revoking is untouched.
    assert other_api.get(f"{first.url}/api/auth/me").status == 200


def test_a_process_without_redis_serves_from_the_database_and_refuses_revoked_sessions(
    servers, shared_redis
):
    first, _, without_redis = servers
    browser = browser_signed_in(first)
    api, api_session_id = api_signed_in(first)
    for _ in range(2):
        for server in (first, without_redis):
            assert browser.get(f"{server.url}/session/status/").status == 200
            assert api.get(f"{server.url}/api/auth/me").status == 200, server.log_tail()

    revoked = api.delete(f"{first.url}/api/auth/sessions/{browser_session_id(api, first)}")
    assert revoked.status == 204
    assert_browser_refused(browser, without_redis)

    other_api, _ = api_signed_in(first)
    assert other_api.delete(f"{first.url}/api/auth/sessions/{api_session_id}").status == 204
    assert api.get(f"{without_redis.url}/api/auth/me").status == 401
    assert other_api.get(f"{without_redis.url}/api/auth/me").status == 200
