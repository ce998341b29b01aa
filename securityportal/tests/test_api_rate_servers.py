"""Two server processes on one Redis count one user's session-management requests
together: the rate is the user's, not each process's (SPEC §7)."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import (
    PROJECT,
    PYTHON_CLIENT,
    empty_redis,
    free_port,
    provision_owner,
    server_environment,
    wait_until_listening,
)

REDIS_TEST_URL = os.environ.get("RATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
PASSWORD = "tangerine lighthouse gravel"
RATE = 5
REQUEST_TIMEOUT_SECONDS = 15


@pytest.fixture
def shared_redis():
    with empty_redis(REDIS_TEST_URL) as client:
        yield client


@pytest.fixture
def database_url(tmp_path):
    """A SQLite file both servers open, migrated, with alice owning Acme."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    provision_owner(url, PASSWORD)
    return url


@pytest.fixture
def two_servers(tmp_path, database_url, shared_redis):
    """Two runserver processes on their own ports, sharing the database and Redis."""
    env = {
        **server_environment(DATABASE_URL=database_url),
        "REDIS_URL": REDIS_TEST_URL,
        # An hour's window: six requests a second apart cannot straddle its edge
        # (but for a second an hour), so the test needs no waiting.
        "SESSION_API_RATE": f"{RATE}/h",
    }
    started = []
    try:
        for name in ("first", "second"):
            port = free_port()
            log = (tmp_path / f"{name}.log").open("w")
            process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    str(port),
                ],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append((process, port, log))
        for process, port, _ in started:
            wait_until_listening(process, port)
        yield [f"http://127.0.0.1:{port}" for _, port, _ in started]
    finally:
        for process, _, log in started:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def request(url: str, *, body: dict | None = None, token: str | None = None):
    headers = {"User-Agent": PYTHON_CLIENT}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    try:
        return urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers),
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
    except urllib.error.HTTPError as error:
        return error


def test_the_sixth_request_across_two_processes_is_refused(two_servers):
    first, second = two_servers
    signed_in = request(
        f"{first}/api/auth/login", body={"username": "alice", "password": PASSWORD}
    )
    assert signed_in.status == 200
    access = json.loads(signed_in.read())["access"]

    answers = [
        request(f"{server}/api/auth/sessions", token=access)
        for server in (first, second, first, second, first, second)
    ]

    assert [answer.status for answer in answers] == [200] * RATE + [429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == [
        "4",
        "3",
        "2",
        "1",
        "0",
        "0",
    ]
    refused = answers[-1]
    assert json.loads(refused.read())["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["X-RateLimit-Limit"] == str(RATE)
