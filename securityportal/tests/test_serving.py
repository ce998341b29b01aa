"""make serve: gunicorn as gunicorn.conf.py sizes it, WhiteNoise serving the collected,
hashed, compressed static files, production's headers through a TLS-ending proxy, and
an access log with no token or query string in it."""

import http.client
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import (
    PROJECT,
    free_port,
    run_python,
    server_environment,
    wait_until_listening,
)
from securityportal.logs import loggable_path
from securityportal.serving import MAX_WORKERS, worker_count

DISOWN_TOKEN = "eyJzaWQiOiJhYmMifQ:1vQxYz:Zm9yZ2VkLXNpZ25hdHVyZS1vZi1hLWxvbmctbGluaw"


def gunicorn_config(**env: str) -> dict[str, str]:
    """gunicorn's settings as it reads gunicorn.conf.py with ``env``."""
    printed = run_python("-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config", **env)
    assert printed.returncode == 0, printed.stderr
    return dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in printed.stdout.splitlines())
    )


def test_without_redis_one_process_serves_so_the_sign_in_limits_hold(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)

    assert worker_count(shared_cache=False) == 1
    assert gunicorn_config(REDIS_URL="")["workers"] == "1"


def test_with_redis_workers_follow_the_cores_up_to_a_cap(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert worker_count(shared_cache=True) == 5
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert worker_count(shared_cache=True) == MAX_WORKERS


def test_web_concurrency_overrides_the_worker_count(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")

    assert worker_count(shared_cache=True) == 3
    assert worker_count(shared_cache=False) == 3
    assert gunicorn_config(WEB_CONCURRENCY="3")["workers"] == "3"


def test_gunicorn_listens_on_localhost_with_timeouts_by_default():
    config = gunicorn_config()

    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["timeout"] == "30"
    assert config["graceful_timeout"] == "30"


def test_gunicorn_believes_forwarded_headers_only_from_trusted_proxies():
    assert gunicorn_config()["forwarded_allow_ips"] == "[]"
    assert gunicorn_config(TRUSTED_PROXY_COUNT="1")["forwarded_allow_ips"] == (
        "['127.0.0.1', '::1']"
    )


def test_the_access_log_format_has_no_query_string_referer_or_credentials():
    log_format = gunicorn_config()["access_log_format"]

    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(u)s", "{authorization}i", "{cookie}i"):
        assert atom not in log_format


def test_token_like_path_segments_are_redacted_and_session_ids_kept():
    session_id = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"

    assert loggable_path(f"/sessions/disown/{DISOWN_TOKEN}/") == "/sessions/disown/[redacted]/"
    assert loggable_path(f"/settings/security/sessions/{session_id}/revoke/") == (
        f"/settings/security/sessions/{session_id}/revoke/"
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[int, Path, subprocess.Popen]]:
    """make serve's steps on a scratch SQLite database: migrate, collectstatic, then
    gunicorn behind a (pretend) TLS-ending proxy on this host. Its port, log and
    process."""
    folder = tmp_path_factory.mktemp("serve")
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
        "STATIC_ROOT": str(folder / "static"),
        "TRUSTED_PROXY_COUNT": "1",
        "DJANGO_ALLOW_PLAIN_HTTP": "0",
    }
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = run_python("manage.py", *step, **env)
        assert done.returncode == 0, done.stderr
    port = free_port()
    log = folder / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=PROJECT,
            env=server_environment(GUNICORN_BIND=f"127.0.0.1:{port}", **env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(server, port)
        yield port, log, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("GET", path, headers={"X-Forwarded-For": "203.0.113.5", **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_a_plain_http_request_is_sent_to_https(served):
    port, _, _ = served

    response = get(port, "/login/")

    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{port}/login/"


def test_pages_through_the_tls_proxy_carry_hsts_and_link_hashed_static_files(served):
    port, _, _ = served

    response = get(port, "/login/", **{"X-Forwarded-Proto": "https"})

    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")
    assert re.search(rb'href="/static/css/portal\.[0-9a-f]{12}\.css"', response.body)


def test_hashed_static_files_are_served_compressed_and_cached_for_good(served):
    port, _, _ = served
    page = get(port, "/login/", **{"X-Forwarded-Proto": "https"}).body
    stylesheet = re.search(rb'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page)[1]

    response = get(
        port,
        stylesheet.decode(),
        **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"},
    )

    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert "immutable" in response.getheader("Cache-Control")


def test_gunicorns_access_log_leaves_out_tokens_and_query_strings(served):
    port, log, server = served

    response = get(port, f"/sessions/disown/{DISOWN_TOKEN}/?email=alice%40acme.example")
    # A line break in the path (%0A, decoded by gunicorn) would start a forged line.
    get(port, "/healthz%0A10.0.0.9%20-%20%22GET%20/admin/%20HTTP/1.1%22%20200")
    # Stopped, gunicorn has written every line: the last test of the module.
    server.terminate()
    server.wait(timeout=30)

    access = [line for line in log.read_text().splitlines() if '"GET /sessions/' in line]
    assert len(access) == 1
    assert '"GET /sessions/disown/[redacted]/ HTTP/1.1"' in access[0]
    assert "alice" not in access[0]
    # The same request id as the portal's own lines, to join them.
    assert access[0].endswith(" " + response.getheader("X-Request-ID"))
    assert DISOWN_TOKEN not in log.read_text()
    assert not any(line.startswith("10.0.0.9 - ") for line in log.read_text().splitlines())
    assert '"GET /healthz?10.0.0.9 - ' in log.read_text()
