"""A real portal process whose database cannot be reached: gunicorn started with
DATABASE_URL naming a PostgreSQL port nothing listens on, so every query fails with
the driver's own "connection refused". Pages that need no query still work (the
sign-in form, static files); everything else meets the outage for real."""

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path

from conftest import PROJECT, free_port, server_environment, wait_until_listening

SERVER_START_SECONDS = 20
# Sent under both names the session cookie may have (with and without __Host-): a
# well-formed session key makes the middleware look its row up.
SESSION_KEY = "k" * 32
SESSION_COOKIES = f"sessionid={SESSION_KEY}; __Host-sessionid={SESSION_KEY}"


@contextmanager
def portal_without_database(log: Path) -> Iterator[str]:
    """The base URL of a gunicorn serving the portal with its database unreachable."""
    port = free_port()
    database_url = f"postgres://portal@127.0.0.1:{free_port()}/portal"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "securityportal.wsgi"],
            cwd=PROJECT,
            env=server_environment(DATABASE_URL=database_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until_listening(server, port, SERVER_START_SECONDS)
            yield f"127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def fetch(
    host: str, method: str, path: str, body: str | None = None, **headers: str
) -> tuple[HTTPResponse, str]:
    """One request, redirects not followed; the response and its body."""
    connection = HTTPConnection(host, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response, response.read().decode()
    finally:
        connection.close()


def csrf_pair(host: str) -> tuple[str, str]:
    """A CSRF cookie and the sign-in form's token from GET /login/, which reads nothing
    from the database: ("NAME=VALUE", token)."""
    response, page = fetch(host, "GET", "/login/")
    assert response.status == 200, page[:300]
    cookie = next(
        value.split(";")[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie" and "csrftoken=" in value
    )
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return cookie, token
