"""A small HTTP client for signing in and checking answers: no redirects followed (a
redirect to the login page must show as one), cookies kept by hand (a standard cookie
jar would not send a Secure or __Host- prefixed one over plain HTTP to 127.0.0.1)."""

import http.client
import json
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
API_CLIENT = "bench-api-client/1.0"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> Reply:
    """One request to 127.0.0.1:``port``; the answer as it came (redirects not followed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@dataclass
class Browser:
    """Cookies and a user agent, as a browser would send them to one server."""

    port: int
    user_agent: str = CHROME
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        headers = {"User-Agent": self.user_agent}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        reply = send(self.port, method, path, headers, body)
        self._keep_cookies(reply)
        return reply

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _keep_cookies(self, reply: Reply) -> None:
        for name, value in reply.headers:
            if name.lower() != "set-cookie":
                continue
            for morsel in SimpleCookie(value).values():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[morsel.key] = morsel.value
                else:
                    self.cookies.pop(morsel.key, None)


def sign_in_with_form(
    port: int, login_path: str, username: str, password: str, session_cookie: str
) -> str:
    """Sign in through a Django login form (CSRF token and all); the Cookie header the
    signed-in browser sends afterwards."""
    browser = Browser(port)
    page = browser.request("GET", login_path)
    match = _CSRF_INPUT.search(page.text())
    if page.status != 200 or not match:
        raise BenchError(f"GET {login_path} answered {page.status} without a CSRF token")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": match[1]}
    reply = browser.request("POST", login_path, form)
    if reply.status != 302 or session_cookie not in browser.cookies:
        raise BenchError(
            f"POST {login_path} did not sign {username!r} in: {reply.status}, "
            f"cookies {sorted(browser.cookies)}"
        )
    return browser.cookie_header()


def obtain_token(port: int, path: str, username: str, password: str, field_name: str) -> str:
    """POST username and password as JSON to a token endpoint; the access token."""
    body = json.dumps({"username": username, "password": password}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": API_CLIENT}
    reply = send(port, "POST", path, headers, body)
    if reply.status != 200:
        raise BenchError(f"POST {path} answered {reply.status}: {reply.text()[:200]}")
    return reply.json()[field_name]


class BenchError(RuntimeError):
    """The bench cannot go on, or its results would mean nothing."""
