"""Real portal processes for the tests that need several of them, or a dependency that
goes down: gunicorn servers, scratch PostgreSQL databases and clusters, private Redis
servers, and an HTTP client that keeps cookies and never follows redirects."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import glob
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from conftest import PROJECT, free_port, provision_owner, server_environment, wait_until_listening

SERVER_START_SECONDS = 20
REQUEST_TIMEOUT_SECONDS = 15
POSTGRES_START_SECONDS = 30


def postgres_url(name: str, *, host: str | None = None, port: int | None = None) -> str:
    """The URL of database ``name`` on the test run's PostgreSQL server (or another
    one on ``host``:``port``), as the test run's user."""
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host = host or db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{port or db['PORT'] or 5432}/{name}"


def admin_connection(*, port: int | None = None) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=port or db["PORT"] or 5432,
        autocommit=True,
    )


@contextmanager
def scratch_database(purpose: str, password: str) -> Iterator[str]:
    """A PostgreSQL database of its own on the test run's server, migrated, with alice
    owning Acme (``password``); dropped afterwards. Its URL.

    Named after the run's database (DATABASE_URL's, without pytest's ``test_``), so
    test runs sharing one PostgreSQL server under different names never collide."""
    run_database = settings.DATABASES["default"]["NAME"].removeprefix("test_")
    name = f"{run_database}_{purpose}_{secrets.token_hex(4)}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = postgres_url(name)
        provision_owner(url, password)
        yield url
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_bin(program: str) -> str | None:
    """The newest installed PostgreSQL's ``program`` (Debian keeps the server programs
    out of PATH), or one on PATH."""
    installed = sorted(
        glob(f"/usr/lib/postgresql/*/bin/{program}"),
        key=lambda found: int(Path(found).parts[4]) if Path(found).parts[4].isdigit() else 0,
    )
    return installed[-1] if installed else shutil.which(program)


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder, on a free port: a
    test may stop and start it without touching the server everyone else uses.

    PostgreSQL refuses to run as root: as root, its programs run as the ``postgres``
    user (runuser), who is given the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    def _run(self, program: str, *args: str, check: bool = True) -> int:
        command = [_postgres_bin(program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert not check or done.returncode == 0, f"{program}: {done.stdout}{done.stderr}"
        return done.returncode

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres")
        # Durability means nothing for a cluster that lives as long as one test.
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
            "-t", str(POSTGRES_START_SECONDS), "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        # Fast: the open connections of the server under test are cut, as in a crash
        # or a failover, rather than waited for.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running PrivateCluster, removed afterwards; the test is skipped when this
    machine has no PostgreSQL server programs (initdb, pg_ctl)."""
    if _postgres_bin("initdb") is None or _postgres_bin("pg_ctl") is None:
        pytest.skip("initdb and pg_ctl are missing: apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="sp_private_pg_"))
    cluster = PrivateCluster(folder)
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.is_running():
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[tuple[subprocess.Popen, str]]:
    """A redis-server of the test's own on a free port, without persistence, that the
    test may kill; the process and its URL. Skipped when redis-server is missing."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.skip("redis-server is missing: apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(process, port)
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Server:
    url: str
    log: Path

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-30:])


@dataclass
class Servers:
    """Gunicorn processes a test started; each is stopped by ``stop_all``."""

    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, database_url: str, redis_url: str = "", **env: str) -> Server:
        """A gunicorn process of the portal (one worker with the threads of
        gunicorn.conf.py, which gunicorn reads from the working folder) on a free port,
        over ``database_url`` and, unless empty, the Redis at ``redis_url``."""
        port = free_port()
        environment = server_environment(
            # Plain HTTP here: the cookie must not be Secure, or it is never sent back.
            SESSION_COOKIE_SECURE="0",
            DATABASE_URL=database_url,
            **env,
        )
        if redis_url:
            environment["REDIS_URL"] = redis_url
        log_path = self.log_dir / f"server-{port}.log"
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        # Several servers at once: none may take over the others' control socket.
        command += ["--workers", "1", "--no-control-socket", "securityportal.wsgi"]
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        wait_until_listening(process, port, SERVER_START_SECONDS)
        return Server(url=f"http://127.0.0.1:{port}", log=log_path)

    def stop_all(self) -> None:
        for process in self.processes:
            stop_process(process)


@contextmanager
def servers_in(log_dir: Path) -> Iterator[Servers]:
    started = Servers(log_dir)
    try:
        yield started
    finally:
        started.stop_all()


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
        return self.send_json("POST", url, body)

    def send_json(self, method: str, url: str, body: dict) -> Answer:
        return self.request(
            method, url, json.dumps(body).encode(), **{"Content-Type": "application/json"}
        )


def browser_sign_in(
    server: Server, password: str, username: str = "alice"
) -> tuple[HttpClient, Answer]:
    """A browser that posted the server's /login/ form; and the form's answer."""
    browser = HttpClient()
    form = browser.get(f"{server.url}/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.decode()}
    )
    answer = browser.request(
        "POST",
        f"{server.url}/login/",
        body.encode(),
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    return browser, answer


def browser_signed_in(server: Server, password: str, username: str = "alice") -> HttpClient:
    """A browser signed in through the server's /login/ form."""
    browser, answer = browser_sign_in(server, password, username)
    assert answer.status == 302, server.log_tail()
    assert any(cookie.name == "sessionid" for cookie in browser.cookies)
    return browser


def api_sign_in(server: Server, password: str, username: str = "alice") -> Answer:
    return HttpClient().post_json(
        f"{server.url}/api/auth/login", {"username": username, "password": password}
    )


def api_signed_in(
    server: Server, password: str, username: str = "alice"
) -> tuple[HttpClient, str]:
    """An API client with a fresh access token; and its session id."""
    answer = api_sign_in(server, password, username)
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
