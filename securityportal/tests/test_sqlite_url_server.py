"""A real server on a SQLite database named by DATABASE_URL answers concurrent refreshes
of one token as it does on the default SQLITE_PATH database: no "database is locked"."""

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (
    PROJECT,
    PYTHON_CLIENT,
    free_port,
    provision_owner,
    server_environment,
    wait_until_listening,
)

THREADS = 8
PASSWORD = "tangerine lighthouse gravel"
SERVER_START_SECONDS = 15
REQUEST_TIMEOUT_SECONDS = 15


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": PYTHON_CLIENT},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"body": text[:200]}


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-20:])


@pytest.fixture
def sqlite_url_server(tmp_path):
    """A runserver process on DATABASE_URL=sqlite:///…, migrated, with one owner."""
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    provision_owner(database_url, PASSWORD)
    port = free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"{port}"],
        cwd=PROJECT,
        env=server_environment(DATABASE_URL=database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_listening(server, port, SERVER_START_SECONDS)
        yield Server(url=f"http://127.0.0.1:{port}", log=log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_concurrent_refreshes_of_one_token_on_a_sqlite_database_url_all_get_its_successor(
    sqlite_url_server,
):
    status, tokens = post_json(
        f"{sqlite_url_server.url}/api/auth/login", {"username": "alice", "password": PASSWORD}
    )
    assert status == 200, sqlite_url_server.log_tail()
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []

    def refresh() -> None:
        barrier.wait()
        # Under SQLite's deferred transactions two of these deadlock upgrading
        # their read lock, and one answers 500 "database is locked".
        answers.append(
            post_json(f"{sqlite_url_server.url}/api/auth/refresh", {"refresh": tokens["refresh"]})
        )

    threads = [threading.Thread(target=refresh) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [200] * THREADS, sqlite_url_server.log_tail()
    successors = {body["refresh"] for _, body in answers}
    assert len(successors) == 1
    assert successors != {tokens["refresh"]}
