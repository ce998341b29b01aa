"""CPU time per signed-in request, in-process, the portal against the stock peers in one run.

    DJANGO_SECRET_KEY=bench .venv-bench/bin/python -m bench.cpu_cost \\
        --database-url postgres://postgres@127.0.0.1:5432/NAME [--requests 1000 --rounds 3]
        [--before REV] [--rows N]

On a machine shared with other work, wall-clock throughput (``make bench``) moves
with the neighbours; the CPU time a request costs its own thread moves far less.
Each request here goes straight through the project's WSGI handler (no server, no
test client), as gunicorn's worker calls it, signed in with a cookie or a bearer
token; the figure is the median thread CPU time of ``--requests`` requests, best of
``--rounds`` interleaved rounds (every project and request once per round). Beside
it, the CPU time the PostgreSQL server spent on those requests (its backend's
counter in /proc, so the database must run on this machine): under load both share
the machine's cores, so throughput follows their sum. The portal and each stock
project (bench/stock_project.py: Django's ``db`` and
``signed_cookies`` engines, djangorestframework-simplejwt) run in processes of
their own, on one scratch PostgreSQL database: the portal in its ``public`` schema,
the peers in a ``stock`` schema (created here). It needs .venv-bench (``make bench``
creates it) for simplejwt. The ratio is the peer's cost over the portal's: above
1.0 the portal request is the cheaper one, as req/s ratios read in PERFORMANCE.md.
``--before REV`` adds the portal as committed at REV (exported with ``git archive``,
in a ``before`` schema of its own) to the same rounds: a change's before and after
measured side by side. ``--rows N`` gives the portal's user N more sessions and 2N
sign-ins, so the security page shows lists as a user of several devices sees them
(the peers' pages have no lists). The security page is also measured with its
template left unrendered (its view builds the context, then answers empty): what the
page costs before any template engine renders a byte.

Worker mode (``--worker``, run in a project's folder): sign in, then answer
``round`` lines on stdin with one JSON line of costs."""

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
PASSWORD = "cpu cost bench passphrase"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
STOCK_SCHEMA = "stock"
UNRENDERED = "unrendered"
BEFORE_SCHEMA = "before"

# name, project, session engine (stock) or mode (portal), kind of credential, path
REQUESTS = [
    ("portal GET /api/auth/me (bearer)", "portal", None, "bearer", "/api/auth/me"),
    ("simplejwt GET /api/me/", "stock", "db", "bearer", "/api/me/"),
    ("portal GET /session/status/ (cookie)", "portal", None, "cookie", "/session/status/"),
    ("stock db: login_required JSON view", "stock", "db", "cookie", "/me/"),
    (
        "stock signed_cookies: login_required JSON view",
        "stock",
        "signed_cookies",
        "cookie",
        "/me/",
    ),
    ("portal GET /settings/security/ (cookie)", "portal", None, "cookie", "/settings/security/"),
    # The portal's layout around a two-button form, nothing else: what every signed-in
    # page of the portal costs before its own content.
    ("portal GET /logout/ (cookie): the layout alone", "portal", None, "cookie", "/logout/"),
    # The security page's own work (its statements, its form, its rows) with no template
    # rendered: a bound on what any template engine could bring the page to. A worker of
    # its own, whose view answers empty instead of rendering.
    (
        "portal GET /settings/security/: no template",
        "portal",
        UNRENDERED,
        "cookie",
        "/settings/security/",
    ),
    ("stock db: login_required page", "stock", "db", "cookie", "/page/"),
    ("stock signed_cookies: login_required page", "stock", "signed_cookies", "cookie", "/page/"),
]
# Which peer each portal request is held against (the targets).
ANCHORS = {
    "portal GET /api/auth/me (bearer)": ["simplejwt GET /api/me/"],
    "portal GET /session/status/ (cookie)": [
        "stock db: login_required JSON view",
        "stock signed_cookies: login_required JSON view",
    ],
    "portal GET /settings/security/ (cookie)": ["stock db: login_required page"],
    "portal GET /logout/ (cookie): the layout alone": ["stock db: login_required page"],
    "portal GET /settings/security/: no template": ["stock db: login_required page"],
}


# The worker: one project, signed in, measuring.


def _environ(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": CHROME,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }


def _more_rows(user: Any, rows: int) -> None:
    """``rows`` more sessions of ``user`` (phones, computers and API clients, each from
    an address of its own) and twice as many sign-ins over the last days: a page with
    lists as a user who signs in from several devices sees it."""
    from datetime import timedelta
    from ipaddress import ip_address

    from django.utils import timezone

    from audit.models import LoginEvent
    from securityportal.client import ClientInfo
    from sessions.lifecycle import open_session

    now = timezone.now()
    agents = [PHONE, FIREFOX, "acme-cli/2.3"]
    for number in range(rows):
        open_session(
            user=user,
            kind="api" if number % 3 == 2 else "browser",
            client=ClientInfo(
                ip=str(ip_address("10.0.0.1") + number), user_agent=agents[number % 3]
            ),
            now=now - timedelta(minutes=number),
        )
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=user,
            account_id=user.account_id,
            username=user.username,
            channel="browser",
            success=number % 4 != 0,
            failure_reason="" if number % 4 else "bad_credentials",
            ip="203.0.113.9",
            device="Firefox 121 on Windows",
            created_at=now - timedelta(hours=number),
        )
        for number in range(2 * rows)
    )


def credentials(project: str, rows: int = 0) -> dict[str, dict[str, str]]:
    """Sign in once through the project's own login form and token endpoint; on the
    portal, with ``rows`` more sessions and sign-ins behind the user."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    stamp = time.time_ns()
    fields = {"email": f"{stamp}@bench.example"}
    if project == "portal":
        from accounts.models import Account

        fields["account"] = Account.objects.create(name=f"CPU bench {stamp}")
    user = get_user_model().objects.create_user(f"cpu{stamp}", password=PASSWORD, **fields)
    body = {"username": user.username, "password": PASSWORD}
    login, token = (
        ("/login/", "/api/auth/login")
        if project == "portal"
        else (
            "/accounts/login/",
            "/api/token/",
        )
    )
    browser = Client(HTTP_HOST="127.0.0.1", HTTP_USER_AGENT=CHROME)
    assert browser.post(login, body).status_code == 302, "browser sign-in failed"
    assert settings.SESSION_COOKIE_NAME in browser.cookies, "no session cookie"
    # Every cookie the sign-in left, as a browser sends them: the session's and the CSRF
    # token's (without the latter each page would mint a new CSRF secret and cookie).
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in browser.cookies.items())
    answer = Client(HTTP_HOST="127.0.0.1").post(token, body, content_type="application/json")
    assert answer.status_code == 200, f"token sign-in failed: {answer.status_code}"
    if rows and project == "portal":
        _more_rows(user, rows)
    return {
        "cookie": {"HTTP_COOKIE": cookies},
        "bearer": {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['access']}"},
    }


def backend_cpu_ns(pid: int) -> int:
    """The CPU time PostgreSQL's backend ``pid`` has used so far, in nanoseconds
    (/proc/PID/schedstat: the server runs on this machine)."""
    process = Path(f"/proc/{pid}")
    # A server in a container reports a PID of its own namespace: no such process
    # here, or another program's.
    assert process.exists() and (process / "comm").read_text().strip() == "postgres", (
        f"PostgreSQL's backend {pid} is not a process of this machine: run the server here"
    )
    return int((process / "schedstat").read_text().split()[0])


def _database_cpu_ns() -> tuple[int, int]:
    """The PostgreSQL backend serving this process's connection, and the CPU time it has
    used so far in nanoseconds."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    return pid, backend_cpu_ns(pid)


def _cpu_ms(handler: Any, environ: dict[str, Any], requests: int) -> tuple[float, float]:
    """The median CPU time of one request in this thread, and the database server's CPU
    time per request over the batch (NaN if the connection was replaced meanwhile:
    ``CONN_MAX_AGE`` ended it, and its counter with it)."""
    timings = []
    statuses: list[str] = []
    backend, database_before = _database_cpu_ns()
    for _ in range(requests):
        request = {**environ, "wsgi.input": io.BytesIO(b"")}
        started = time.thread_time()
        response = handler(request, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(response)
        response.close()
        timings.append(time.thread_time() - started)
    # Every answer a signed-in 200: a refusal would be measured as a cheap request.
    refused = {status for status in statuses if not status.startswith("200")}
    assert not refused, (environ["PATH_INFO"], refused)
    backend_after, database_after = _database_cpu_ns()
    database = (
        (database_after - database_before) / requests / 1e6
        if backend_after == backend
        else float("nan")
    )
    return statistics.median(timings) * 1000, database


def _render_nothing() -> None:
    """The security page's view builds its context as ever, then answers empty instead of
    rendering its template."""
    from django.http import HttpResponse

    import securityportal.views

    securityportal.views.render = lambda *args, **kwargs: HttpResponse()


def worker(
    project: str, mode: str | None, paths: dict[str, list[str]], requests: int, rows: int
) -> None:
    sys.path[0] = os.getcwd()
    import django
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    django.setup()
    if mode == UNRENDERED:
        _render_nothing()
    call_command("migrate", verbosity=0)
    signed_in = credentials(project, rows)
    handler = WSGIHandler()
    environs = {name: _environ(path, signed_in[kind]) for name, (kind, path) in paths.items()}
    for environ in environs.values():
        _cpu_ms(handler, environ, 50)  # warm up: templates, compiled lookups
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        costs = {name: _cpu_ms(handler, e, requests) for name, e in environs.items()}
        print(json.dumps(costs), flush=True)


# The parent: start the workers, run interleaved rounds, report.


def _create_schemas(database_url: str, *names: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        for name in names:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")


def _before(name: str, revision: str) -> str:
    """The name of a portal request measured on the portal as committed at ``revision``."""
    return name.replace("portal", f"portal@{revision}", 1)


def _start(
    project: str,
    variant: str | None,
    args: argparse.Namespace,
    stock_dir: Path,
    before_dir: Path | None = None,
):
    """A worker of ``project``: ``variant`` is a stock project's session engine, or the
    portal's mode (None, or ``UNRENDERED``). With ``before_dir``, the portal exported
    there (the revision ``--before``), in a schema of its own, its requests named
    after it."""
    paths = {
        name if before_dir is None else _before(name, args.before): (kind, path)
        for name, where, eng, kind, path in REQUESTS
        if where == project and eng == variant
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "cpu-cost-bench-secret-key"),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    if project == "portal":
        cwd = before_dir or PROJECT
        if before_dir is not None:
            env["PGOPTIONS"] = f"-c search_path={BEFORE_SCHEMA}"
        env.update(
            DJANGO_SETTINGS_MODULE="securityportal.settings",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_ALLOW_PLAIN_HTTP="1",
            DATABASE_URL=args.database_url,
            # As make bench: every request is counted, none refused, and one sign-in
            # serves the whole run.
            SESSION_API_RATE="100000000/min",
            ACCESS_TOKEN_SECONDS="3600",
            LOGIN_RATE_PER_IP="100000000/min",
        )
    else:
        cwd = stock_dir
        env.update(
            DJANGO_SETTINGS_MODULE="stockproject.settings",
            BENCH_DATABASE_NAME=args.database_url.rsplit("/", 1)[1],
            BENCH_SESSION_ENGINE=variant,
            BENCH_TOKEN_SECONDS="3600",
            PGOPTIONS=f"-c search_path={STOCK_SCHEMA}",
        )
    spec = json.dumps(
        {
            "project": project,
            "mode": variant if project == "portal" else None,
            "paths": paths,
            "requests": args.requests,
            "rows": args.rows,
        }
    )
    # The portal logs as in production (an access line per request, at INFO): its
    # cost is measured, its lines go to a file rather than the terminal.
    log = stock_dir.parent / f"{project}-{variant}-{before_dir is not None}.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", spec],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    ready = process.stdout.readline().strip() == "ready"
    assert ready, f"{project} {variant} did not start: {log.read_text()[-2000:]}"
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--rows",
        type=int,
        default=0,
        help="give the portal's user this many more sessions, and twice as many sign-ins",
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also measure the portal as committed at REV, in the same rounds",
    )
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        worker(spec["project"], spec["mode"], spec["paths"], spec["requests"], spec["rows"])
        return
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url must name a scratch PostgreSQL database")

    from bench.run import export_revision
    from bench.stock_project import write_stock_project

    _create_schemas(args.database_url, STOCK_SCHEMA, BEFORE_SCHEMA)
    workdir = Path(tempfile.mkdtemp())
    stock_dir = write_stock_project(workdir / "stock")
    groups = sorted({(where, eng) for _, where, eng, _, _ in REQUESTS}, key=str)
    workers = [_start(where, eng, args, stock_dir) for where, eng in groups]
    names = [name for name, *_ in REQUESTS]
    anchors = dict(ANCHORS)
    if args.before:
        before_dir = export_revision(args.before, workdir / "before")
        workers.append(_start("portal", None, args, stock_dir, before_dir))
        # The revision's worker measures the portal's own requests, not the unrendered page.
        portal = [name for name, where, mode, *_ in REQUESTS if where == "portal" and mode is None]
        names += [_before(name, args.before) for name in portal]
        anchors.update(
            {_before(name, args.before): ANCHORS[name] for name in portal if name in ANCHORS}
        )
    best: dict[str, float] = {}
    best_database: dict[str, float] = {}
    try:
        for number in range(args.rounds):
            # Every other round in reverse, so no project always runs first.
            for process in workers if number % 2 == 0 else reversed(workers):
                process.stdin.write("round\n")
                process.stdin.flush()
                for name, (ms, database) in json.loads(process.stdout.readline()).items():
                    best[name] = min(ms, best.get(name, ms))
                    if not math.isnan(database):
                        best_database[name] = min(database, best_database.get(name, database))
    finally:
        for process in workers:
            process.stdin.close()
            process.wait(timeout=30)

    both = {name: best[name] + best_database.get(name, math.nan) for name in names}
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{args.requests} requests a round, best of {args.rounds} rounds; "
        f"load average after the run {load}"
    )
    print(f"{'request':50} {'CPU ms':>7} {'DB CPU ms':>9} {'both':>7}")
    for name in names:
        print(
            f"{name:50} {best[name]:7.3f} {best_database.get(name, math.nan):9.3f} "
            f"{both[name]:7.3f}"
        )
    print()
    print("Ratios: the request's own CPU, then with the database server's for it")
    for portal, peers in anchors.items():
        for peer in peers:
            print(
                f"{portal} against {peer}: {best[peer] / best[portal]:.2f}x, "
                f"{both[peer] / both[portal]:.2f}x"
            )


if __name__ == "__main__":
    main()
