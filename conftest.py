"""Fixtures shared by every app's tests: the people of SPEC's examples and sign-in helpers.

alice owns Acme, bob is a member of Acme, carol owns Globex (another tenant)."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from accounts.models import Account, User
from audit.chart import forget_settled_days
from securityportal import cache_backoff
from securityportal.logs import console_handler

PASSWORD = "correct horse battery staple"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
PYTHON_CLIENT = "python-requests/2.32.3"
PROJECT = Path(__file__).resolve().parent
_PROJECT_ENV_PREFIXES = ("DJANGO_", "SESSION_", "JWT_", "DATABASE_", "SQLITE_PATH")


def run_python(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    """Run ``python *args`` in the project folder, in a fresh interpreter whose
    environment holds none of the portal's own variables except ``env`` (a
    test key and the settings module by default; None removes one)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_PROJECT_ENV_PREFIXES)}
    clean.update(
        DJANGO_SETTINGS_MODULE="securityportal.settings",
        DJANGO_SECRET_KEY="test-only-secret-key-not-for-production",
    )
    for key, value in env.items():
        if value is None:
            clean.pop(key, None)
        else:
            clean[key] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def hung_redis_server() -> Iterator[tuple[dict, list[socket.socket]]]:
    """A "Redis" that takes connections and never answers: the settings of a cache on
    it (as REDIS_URL would configure one), and the connections it took, one for each
    time the portal waited on it."""
    server = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                taken.append(server.accept()[0])
            except OSError:  # the server closed
                return

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        yield (
            {
                "BACKEND": "securityportal.redis_cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{server.getsockname()[1]}/12",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            },
            taken,
        )
    finally:
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        taker.join()
        for connection in taken:
            connection.close()


def server_environment(**env: str) -> dict[str, str]:
    """The environment ``run_python`` gives a subprocess, for a server process that
    must keep running: none of the portal's variables but a test key, 127.0.0.1 as
    the allowed host, plain HTTP allowed, and ``env`` (which may override them)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_PROJECT_ENV_PREFIXES)}
    clean.update(
        DJANGO_SETTINGS_MODULE="securityportal.settings",
        DJANGO_SECRET_KEY="test-only-secret-key-not-for-production",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # The test servers speak plain HTTP: no redirect to HTTPS, no Secure cookies.
        DJANGO_ALLOW_PLAIN_HTTP="1",
        # No mail server: security e-mails stay in the server process.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    clean.update(env)
    return clean


def wait_until_listening(server: subprocess.Popen, port: int, seconds: int = 20) -> None:
    """Poll until ``server`` accepts connections on ``port``, or fail the test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the server did not listen on port {port} within {seconds} s")


def provision_owner(database_url: str, password: str) -> None:
    """Migrate the database at ``database_url`` and create Acme with alice as its
    owner, through the management commands an operator would use."""
    migrated = run_python("manage.py", "migrate", "--noinput", DATABASE_URL=database_url)
    assert migrated.returncode == 0, migrated.stderr
    created = run_python(
        "manage.py",
        "create_account",
        "Acme",
        "--owner=alice",
        "--email=alice@acme.example",
        "--noinput",
        DATABASE_URL=database_url,
        PORTAL_PASSWORD=password,
    )
    assert created.returncode == 0, created.stderr


@contextmanager
def empty_redis(url: str) -> Iterator[Any]:
    """The Redis database at ``url``, emptied before and after; the test is skipped
    when no Redis answers there."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {url}")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()


def pytest_collection_modifyitems(config, items):
    """Tests of what only PostgreSQL has (row locks: SQLite locks the whole file; query
    plans; prepared statements) run on PostgreSQL only, which `.ci/run` always does."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def served_like_a_checkout():
    """The test client and live_server speak plain HTTP and serve static files from
    the source folders, whatever collectstatic left in STATIC_ROOT. The redirect to
    HTTPS and the hashed files are tested with production's settings in
    securityportal/tests/test_production_settings.py."""
    plain = override_settings(
        SECURE_SSL_REDIRECT=False,
        STATIC_ROOT=None,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    plain.enable()
    yield
    plain.disable()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 at full cost would dominate the suite; hasher tests set their own."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch):
    """Lockout and rate-limit counters live in the cache: every test starts at zero. So
    do the sign-in charts' kept days: the next test's account may have the same id.
    And no cache is left alone for an earlier test's Redis that failed."""
    cache.clear()
    forget_settled_days()
    monkeypatch.setattr(cache_backoff, "_unreachable_until", {})


class JsonLog:
    """What the portal's log handler wrote with LOG_FORMAT=json."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.split("\n") if line]


@pytest.fixture
def json_log() -> Iterator[JsonLog]:
    """Every record, at every level, through the handler LOG_FORMAT=json installs."""
    log = JsonLog()
    handler = console_handler("json", log.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield log
    root.removeHandler(handler)
    root.setLevel(level)


class PasswordHashes:
    """Counts the passwords hashed from now on. MD5PasswordHasher.verify() hashes
    through encode(), so counting encode() counts every hash, whether it stores a
    password or checks one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real_encode = MD5PasswordHasher.encode

        def counting_encode(hasher: MD5PasswordHasher, password: str, salt: str) -> str:
            self.count += 1
            return real_encode(hasher, password, salt)

        monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)


def _make_user(username: str, account: Account, role: str) -> User:
    return User.objects.create_user(
        username=username,
        email=f"{username}@{account.name.lower()}.example",
        password=PASSWORD,
        account=account,
        role=role,
    )


@pytest.fixture
def acme(db) -> Account:
    return Account.objects.create(name="Acme")


@pytest.fixture
def globex(db) -> Account:
    return Account.objects.create(name="Globex")


@pytest.fixture
def alice(acme) -> User:
    return _make_user("alice", acme, User.Role.OWNER)


@pytest.fixture
def bob(acme) -> User:
    return _make_user("bob", acme, User.Role.MEMBER)


@pytest.fixture
def carol(globex) -> User:
    return _make_user("carol", globex, User.Role.OWNER)


def full_width(text: str) -> str:
    """``text`` in full-width letters, as an East Asian input method types them."""
    return "".join(chr(ord(letter) + 0xFEE0) for letter in text)


def browser_for(user: User, user_agent: str = CHROME_MAC) -> Client:
    """A test browser signed in through the real /login/ form."""
    browser = Client(HTTP_USER_AGENT=user_agent)
    response = browser.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return browser


def api_login(user: User, user_agent: str = PYTHON_CLIENT) -> dict:
    """Sign in through POST /api/auth/login; the JSON answer (access, refresh, session)."""
    response = Client(HTTP_USER_AGENT=user_agent).post(
        "/api/auth/login",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str, user_agent: str = PYTHON_CLIENT) -> Client:
    """An API client that sends ``access`` as its bearer token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_USER_AGENT=user_agent)


@pytest.fixture
def alice_browser(alice) -> Client:
    return browser_for(alice)


# Browser tests: Debian's chromium driven by Playwright (marker "browser").
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT / "test-artifacts"


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between page actions are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def plain_http_cookies(request, settings):
    """live_server speaks plain HTTP; production's Secure, __Host- cookies are
    covered by the settings tests."""
    if request.node.get_closest_marker("browser") is None:
        return
    settings.SESSION_COOKIE_SECURE = False
    settings.SESSION_COOKIE_NAME = "sessionid"
    settings.CSRF_COOKIE_SECURE = False
    settings.CSRF_COOKIE_NAME = "csrftoken"


def sign_in_page(browser, base_url: str, username: str, **context_options):
    """A new browser context signed in through the real /login/ page; its page."""
    page = browser.new_context(**context_options).new_page()
    sign_in_with(page, base_url, username)
    return page


def sign_in_with(page, base_url: str, username: str) -> None:
    """Sign ``page``'s browser context in through the real /login/ page."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/login/")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/settings/security/")


# The accessibility audit: axe-core from the npm registry (package.json, `npm ci`).
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings on ``page`` as it stands, one line each
    (rule, impact, help and the elements at fault); empty when there are none.

    axe is added as an inline script: the page's CSP refuses those, so audited pages
    come from a context made with ``bypass_csp=True``."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {PROJECT}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{found['id']} ({found['impact']}): {found['help']} at "
        + ", ".join(" ".join(map(str, node["target"])) for node in found["nodes"])
        for found in violations
        if found["impact"] in SERIOUS
    ]


def once_someone_waits_for_a_row_lock(go_on: threading.Event) -> None:
    """Set ``go_on`` as soon as a transaction of this database waits on a lock."""
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
        assert time.monotonic() < deadline
    go_on.set()
