"""What is measured: the servers (one per project and configuration) and the requests
sent to them, each with how to sign in for it and the answer that proves it did."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.services import Server, clean_environment, database_url
from bench.web import API_CLIENT, CHROME, Reply, obtain_token, send, sign_in_with_form

PORTAL_DATABASE = "sp_bench_portal"
STOCK_DATABASE = "sp_bench_stock"
USERNAME = "bench"
PORTAL_SESSION_COOKIE = "sessionid"  # plain HTTP, as the peers: not Secure, no __Host-
STOCK_SESSION_COOKIE = "sessionid"
STOCK_ENGINES = ("db", "cached_db", "signed_cookies")
# Access tokens of both APIs live this long: one sign-in per server serves the run.
TOKEN_SECONDS = 3600

# The anchors of issue 7, by the column they head in the report.
ANCHOR_SIMPLEJWT = "simplejwt"
ANCHOR_DB = "stock db"
ANCHOR_SIGNED = "stock signed_cookies"


# Headers that make a request signed in (signing in the first time it is called).
SignIn = Callable[[], dict[str, str]]
# None when a reply is the signed-in answer, else what is wrong with it.
Expectation = Callable[[Reply], str | None]


@dataclass(frozen=True)
class Target:
    """One request under load. ``kind`` says which of a peer's requests it compares
    with: ``json`` (a cheap signed-in request, also the API), ``page`` (a rendered
    page), ``ceiling`` (no authentication)."""

    label: str
    family: str
    kind: str
    server: Server
    path: str
    sign_in: SignIn
    expect: Expectation

    def check(self, headers: dict[str, str]) -> str | None:
        """None when one request with ``headers`` gets the signed-in answer; else why not."""
        reply = send(self.server.port, "GET", self.path, headers)
        if reply.status != 200:
            where = reply.header("Location")
            return f"answered {reply.status}" + (f" (to {where})" if where else "")
        return self.expect(reply)


@dataclass(frozen=True)
class Setup:
    """What every server of a run shares."""

    secret_key: str
    password: str
    redis_url: str
    stock_dir: Path
    portal_dir: Path


def _json_field(name: str, value: object) -> Expectation:
    def expect(reply: Reply) -> str | None:
        try:
            got = reply.json().get(name)
        except ValueError:
            return f"not JSON: {reply.text()[:120]!r}"
        return None if got == value else f"{name} is {got!r}, not {value!r}"

    return expect


def _contains(marker: str) -> Expectation:
    def expect(reply: Reply) -> str | None:
        return None if marker in reply.text() else f"{marker!r} is not in the page"

    return expect


def portal_server(setup: Setup, name: str, redis: bool) -> Server:
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="securityportal.settings",
        DJANGO_SECRET_KEY=setup.secret_key,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(PORTAL_DATABASE),
        # Served over plain HTTP, as the peers are: without it every request would be
        # redirected to HTTPS.
        DJANGO_ALLOW_PLAIN_HTTP="1",
        # The per-user API throttle still counts every request (its cache round trips
        # are part of the cost); it must not refuse the load itself.
        SESSION_API_RATE="100000000/min",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # One sign-in per server serves the whole run (a new session per round would
        # grow the sessions card between rounds): the token must outlive the run.
        ACCESS_TOKEN_SECONDS=str(TOKEN_SECONDS),
    )
    if redis:
        env["REDIS_URL"] = f"{setup.redis_url}/0"
    return Server(name, setup.portal_dir, "securityportal.wsgi:application", env, "/login/")


def stock_server(setup: Setup, engine: str) -> Server:
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="stockproject.settings",
        DJANGO_SECRET_KEY=setup.secret_key,
        BENCH_DATABASE_NAME=STOCK_DATABASE,
        BENCH_SESSION_ENGINE=engine,
        BENCH_TOKEN_SECONDS=str(TOKEN_SECONDS),
    )
    if engine == "cached_db":
        env["BENCH_REDIS_URL"] = f"{setup.redis_url}/1"
    return Server(
        f"stock-{engine}", setup.stock_dir, "stockproject.wsgi:application", env, "/ping/"
    )


def portal_targets(setup: Setup, server: Server, family: str) -> list[Target]:
    @cache
    def browser() -> dict[str, str]:
        cookie = sign_in_with_form(
            server.port, "/login/", USERNAME, setup.password, PORTAL_SESSION_COOKIE
        )
        return {"Cookie": cookie, "User-Agent": CHROME}

    @cache
    def bearer() -> dict[str, str]:
        token = obtain_token(server.port, "/api/auth/login", USERNAME, setup.password, "access")
        return {"Authorization": f"Bearer {token}", "User-Agent": API_CLIENT}

    def target(
        path: str, kind: str, credential: str, sign_in: SignIn, expect: Expectation
    ) -> Target:
        label = f"{family} GET {path} ({credential})"
        return Target(label, family, kind, server, path, sign_in, expect)

    return [
        target("/api/auth/me", "json", "bearer", bearer, _json_field("username", USERNAME)),
        target("/session/status/", "json", "cookie", browser, _contains('id="session-banner"')),
        target("/settings/security/", "page", "cookie", browser, _contains("Active sessions")),
    ]


def stock_targets(setup: Setup, server: Server, engine: str) -> list[Target]:
    family = f"stock {engine}"

    @cache
    def browser() -> dict[str, str]:
        cookie = sign_in_with_form(
            server.port, "/accounts/login/", USERNAME, setup.password, STOCK_SESSION_COOKIE
        )
        return {"Cookie": cookie, "User-Agent": CHROME}

    def target(view: str, kind: str, path: str, expect: Expectation) -> Target:
        label = f"{family}: login_required {view}"
        return Target(label, family, kind, server, path, browser, expect)

    return [
        target("JSON view", "json", "/me/", _json_field("username", USERNAME)),
        target("page", "page", "/page/", _contains(f"Hello {USERNAME}")),
    ]


def simplejwt_target(setup: Setup, server: Server) -> Target:
    @cache
    def bearer() -> dict[str, str]:
        token = obtain_token(server.port, "/api/token/", USERNAME, setup.password, "access")
        return {"Authorization": f"Bearer {token}", "User-Agent": API_CLIENT}

    return Target(
        "simplejwt: JWTAuthentication + IsAuthenticated",
        ANCHOR_SIMPLEJWT,
        "json",
        server,
        "/api/me/",
        bearer,
        _json_field("username", USERNAME),
    )


def ceiling_target(server: Server) -> Target:
    return Target(
        "ceiling: no-auth JSON view (stock project)",
        "ceiling",
        "ceiling",
        server,
        "/ping/",
        dict,
        _json_field("ok", True),
    )


def build(setup: Setup) -> tuple[list[Server], list[Target]]:
    """Every server of the run, and every target in the order of a round."""
    portal = portal_server(setup, "portal", redis=False)
    portal_redis = portal_server(setup, "portal-redis", redis=True)
    stock = {engine: stock_server(setup, engine) for engine in STOCK_ENGINES}
    by_family = [
        [ceiling_target(stock["db"]), simplejwt_target(setup, stock["db"])],
        portal_targets(setup, portal, "portal"),
        portal_targets(setup, portal_redis, "portal+redis"),
        *(stock_targets(setup, stock[engine], engine) for engine in STOCK_ENGINES),
    ]
    targets = [target for family in by_family for target in family]
    return [portal, portal_redis, *stock.values()], _interleave(targets)


def _interleave(targets: list[Target]) -> list[Target]:
    """Like requests next to each other (API, cheap, page), so a drift of the machine
    during a round touches a request and its anchors alike."""
    order = {"ceiling": 0, "json": 1, "page": 2}
    return sorted(targets, key=lambda t: (order[t.kind], "/api/" not in t.path))
