"""make bench: the portal against its peers, in one run, on this machine.

    make bench [BENCH_ARGS="--seconds 8 --rounds 2 --budget 450 --revision REV"]
    .venv-bench/bin/python -m bench.run [the same arguments]

Every variant is a gunicorn server with the same number of sync workers, DEBUG off, on
PostgreSQL databases the run creates and drops; wrk (a separate process) loads one
request at a time, in interleaved rounds, and the best round counts. Before any load,
every signed-in request must answer 200 with its signed-in body, and wrk counts every
answer that is not 2xx: one fails the run. SQL statements and writes per request are
counted in-process (bench/count_statements.py). Results go to stdout,
docs/PERFORMANCE.md and docs/performance.png.

Everything the run starts (servers, a private Redis, a temporary folder, the databases)
is undone when it ends, also on failure or Ctrl-C."""

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import FrameType

from bench import variants
from bench.chart import CHART_NAME, write_chart
from bench.interference import DISTURBED
from bench.loadgen import CONNECTIONS, THREADS, wrk_path
from bench.machine import facts, load_average
from bench.report import Measurement, Report, print_report, write_markdown
from bench.rounds import (
    MAX_RETRIES,
    QUIET_WAIT_SECONDS,
    WARM_UP_SECONDS,
    log,
    run_rounds,
    signed_in_headers,
)
from bench.services import (
    WORKERS,
    Server,
    create_database,
    drop_database,
    run_checked,
    start_redis,
)
from bench.stock_project import write_stock_project
from bench.web import BenchError

PROJECT = Path(__file__).resolve().parents[1]
DOCS = PROJECT / "docs"
COUNTER = Path(__file__).with_name("count_statements.py")
# A 1-minute load average above this before the run means the machine is not idle.
BUSY_LOAD = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="load per request and round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument(
        "--budget",
        type=int,
        default=450,
        help="seconds the whole run may take, waits for a quiet machine and retries included",
    )
    parser.add_argument(
        "--revision",
        help="measure this commit (exported with git archive) instead of the working tree",
    )
    return parser.parse_args()


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinds the ExitStack in main(), so servers and databases are cleaned up.
    raise SystemExit(f"stopped by signal {signum}")


def migrate(servers: list[Server]) -> None:
    """Migrate the servers' databases side by side."""
    migrations = [
        subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=server.project_dir,
            env=server.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for server in servers
    ]
    outputs = [migration.communicate(timeout=300)[0] for migration in migrations]
    for migration, output in zip(migrations, outputs, strict=True):
        if migration.returncode != 0:
            raise BenchError(f"migrate failed:\n{output}")


def create_users(portal: Server, stock: Server, password: str) -> None:
    """The user every variant signs in as, through each project's own commands (the
    password from the environment, never the command line)."""
    user = variants.USERNAME
    commands = [
        (portal, "create_account Bench --owner bench-owner --email owner@bench.example"),
        (portal, f"create_user {user} --account Bench --email {user}@bench.example"),
        (stock, f"createsuperuser --username {user} --email {user}@bench.example"),
    ]
    for server, command in commands:
        env = {**server.env, "PORTAL_PASSWORD": password, "DJANGO_SUPERUSER_PASSWORD": password}
        run_checked(
            [sys.executable, "manage.py", *command.split(), "--noinput"],
            cwd=server.project_dir,
            env=env,
        )


def start_servers(servers: list[Server], logs: Path, cleanup: contextlib.ExitStack) -> None:
    logs.mkdir(exist_ok=True)
    for server in servers:
        cleanup.callback(server.stop)
        server.start(logs)
    for server in servers:
        server.wait_ready()
        log(f"  {server.name} on 127.0.0.1:{server.port}")


def count_statements(measurements: list[Measurement]) -> None:
    """Statements and writes per request of every target, one counting process per server."""
    by_server: dict[str, list[Measurement]] = defaultdict(list)
    for m in measurements:
        by_server[m.target.server.name].append(m)
    for group in by_server.values():
        server = group[0].target.server
        requests = [{"path": m.target.path, "headers": signed_in_headers(m.target)} for m in group]
        output = run_checked(
            [sys.executable, str(COUNTER), json.dumps(requests)],
            cwd=server.project_dir,
            env=server.env,
        )
        for m, counted in zip(group, json.loads(output.splitlines()[-1]), strict=True):
            if counted["status"] != 200:
                raise BenchError(f"{m.target.label}: {counted['status']} in-process")
            m.statements, m.writes, m.sql = (
                counted["statements"],
                counted["writes"],
                counted["sql"],
            )


def method_text(args: argparse.Namespace) -> str:
    wrk = f"wrk -t{THREADS} -c{CONNECTIONS} -d{args.seconds}s"
    return f"""- Load generator: wrk (Debian's package), `{wrk}` per request and round after a
  {WARM_UP_SECONDS} s warm-up, from a separate process on the same machine, 127.0.0.1
  only. Headers (cookie, bearer token)
  are set by [bench/load.lua](../bench/load.lua), which also counts every answer that
  is not 2xx: any such answer fails the run (wrk itself counts a redirect to the login
  page as a success).
- Servers: gunicorn, {WORKERS} sync workers for every variant, one gunicorn
  configuration for all ([bench/gunicorn_bench.conf.py](../bench/gunicorn_bench.conf.py):
  no gunicorn access log, no worker replaced during the run; not the portal's
  deployment file), plain HTTP, DEBUG off, `CONN_MAX_AGE=60` with
  `CONN_HEALTH_CHECKS` (a `SELECT 1` before a request's first statement, as the
  portal's settings); the portal prepares the statements it repeats (its default,
  `DATABASE_PREPARED_STATEMENTS`), the peers run Django's default, which prepares
  none; PostgreSQL databases `{variants.PORTAL_DATABASE}` and
  `{variants.STOCK_DATABASE}` created and dropped by the run, a private Redis
  (no persistence) on a free port for the Redis variants. The portal writes its own
  access line per request (`securityportal.logs`, at INFO to its log file), as in
  production; the peers write none.
- {args.rounds} interleaved rounds (every request once per round, like requests next
  to each other, the order reversed every other round); the best round of each
  request is reported, every round is listed below with the CPU that other work on the
  machine took meanwhile (every process but the bench's own and the PostgreSQL
  backends of its databases, as a share of all cores, sampled twice a second).
- A shared machine: before each run the bench waits up to {QUIET_WAIT_SECONDS} s for
  other work to pause, and a run during which other work took more than
  {DISTURBED:.0%} of the CPU is tried again (at most {MAX_RETRIES} times, while the
  run's budget of {args.budget} s allows); the best attempt is kept.
- Signed in for real: each variant signs in once through its own login form or token
  endpoint, and one request must answer 200 with the signed-in body (JSON username,
  page marker) before any load.
- SQL statements and writes (INSERT/UPDATE/DELETE) per request: counted in-process with
  Django's `CaptureQueriesContext` through the full middleware stack (Django's test
  client, the same headers and environment as the server), averaged over 5 requests
  after one uncounted request.
- Variants: the portal as configured for production (no `REDIS_URL`, so Django's
  in-process cache); the portal with `REDIS_URL`; a minimal project the bench
  generates (Django's `startproject` middleware, `django.contrib.sessions` with the
  `db`, `cached_db` (Redis cache) and `signed_cookies` engines, a `login_required`
  JSON view and a `login_required` template page); djangorestframework-simplejwt
  (`JWTAuthentication` + `IsAuthenticated`, a ModelSerializer of the user) in the same
  generated project; a no-auth JSON view of that project as the ceiling.
- Settings the bench changes on the portal: `DJANGO_ALLOW_PLAIN_HTTP=1` (the
  peers' plain HTTP: no redirect to HTTPS, cookies without Secure);
  `SESSION_API_RATE` is raised so the per-user API throttle still counts every
  request but never refuses the load;
  `ACCESS_TOKEN_SECONDS` (and simplejwt's `ACCESS_TOKEN_LIFETIME`) is an hour so one
  sign-in serves the run (the sessions card shows the same sessions in every round);
  e-mail goes to the dummy backend."""


def export_revision(revision: str, folder: Path) -> Path:
    """The project as committed at ``revision``, in ``folder`` (the work tree is untouched)."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=PROJECT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise BenchError(f"git archive {revision}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def start_everything(cleanup: contextlib.ExitStack, revision: str | None) -> list[Measurement]:
    """Redis, the databases, the users and the servers; an empty measurement per target."""
    workdir = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
    portal_dir = export_revision(revision, workdir / "portal") if revision else PROJECT
    redis, redis_url = start_redis(workdir)
    cleanup.callback(redis.stop)
    setup = variants.Setup(
        secret_key=secrets.token_urlsafe(50),
        password=f"bench-{secrets.token_urlsafe(18)}",
        redis_url=redis_url,
        stock_dir=write_stock_project(workdir / "stock"),
        portal_dir=portal_dir,
    )
    servers, targets = variants.build(setup)
    for name in (variants.PORTAL_DATABASE, variants.STOCK_DATABASE):
        cleanup.callback(drop_database, name)
        create_database(name)
    log("Migrating and creating the users ...")
    portal, stock = servers[0], next(s for s in servers if s.name == "stock-db")
    migrate([portal, stock])
    create_users(portal, stock, setup.password)
    log("Starting servers ...")
    start_servers(servers, workdir / "logs", cleanup)
    return [Measurement(target) for target in targets]


def run(args: argparse.Namespace, cleanup: contextlib.ExitStack, started: float) -> Report:
    wrk_path()
    load_before = load_average()
    if os.getloadavg()[0] > BUSY_LOAD:
        log(f"Warning: load average {load_before} before the run: other work will skew it.")
    measurements = start_everything(cleanup, args.revision)
    log("Counting SQL statements per request ...")
    count_statements(measurements)
    run_rounds(measurements, args.seconds, args.rounds, deadline=started + args.budget)
    arguments = shlex.join(sys.argv[1:])
    command = "make bench" + (f" BENCH_ARGS='{arguments}'" if arguments else "")
    machine = facts(PROJECT, args.revision, load_before)
    return Report(measurements, machine, command, args.seconds, f" {arguments}".rstrip())


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as cleanup:
            report = run(args, cleanup, started)
            log("Stopping servers, dropping the bench databases ...")
    except BenchError as error:
        sys.exit(f"bench failed: {error}")
    report.elapsed = time.monotonic() - started
    print_report(report)
    write_chart(report, DOCS / CHART_NAME)
    write_markdown(report, DOCS / "PERFORMANCE.md", method_text(args))
    log(f"\nWrote docs/PERFORMANCE.md and docs/{CHART_NAME} in {report.elapsed:.0f} s.")


if __name__ == "__main__":
    main()
