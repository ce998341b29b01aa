"""make load: simulated users against the portal served as `make serve` serves it
(gunicorn.conf.py, PostgreSQL, Redis), on loopback only, for a bounded time.

Each simulated user owns one user of a fresh database: it signs in, then until the
time is up lists its sessions and refreshes its token every round; every few rounds
a second device signs in and is revoked, or its other sessions are signed out, or
its password changes. The run fails (exit status 1) on any 5xx answer, any request
left unanswered, and any action whose audit row is missing: every action the script
saw succeed is counted, and the rows written for it (sign-in events,
``session.revoked``, ``password.changed``) are counted in the database afterwards;
the two counts must be equal.

    python -m bench.load_portal [--users 50] [--seconds 120] [--database sp_load]
                                [--write-doc]

Everything it starts (a scratch database, a private Redis, the server) it stops and
removes, also when it fails or is interrupted."""

import argparse
import json
import math
import random
import secrets
import shutil
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.services import (
    BenchError,
    Process,
    clean_environment,
    create_database,
    database_url,
    drop_database,
    free_port,
    run_checked,
    start_redis,
)
from bench.web import API_CLIENT, send

PROJECT = Path(__file__).resolve().parent.parent
DOC = PROJECT / "docs" / "PERFORMANCE.md"
SECTION = "## Load"
ACTIONS = ("sign_in", "list", "refresh", "revoke", "revoke_others", "change_password")
# The slowest answer a user waits for; far above any expected latency, it only keeps
# a hung server from hanging the run. A request left unanswered fails the run: its
# outcome, and so the audit rows it should have written, are unknown.
REQUEST_TIMEOUT_SECONDS = 300
# After the deadline, users finish the request they are in (and start no other);
# past this grace the run stops regardless.
STOP_GRACE_SECONDS = REQUEST_TIMEOUT_SECONDS + 30
NEW_DEVICE_EVERY = 3  # rounds
REVOKE_OTHERS_EVERY = 5  # rounds
CHANGE_PASSWORD_EVERY = 8  # rounds
FIRST_PASSWORD = "load test passphrase number one"

PROVISION = """
import sys
import django
django.setup()
from accounts.provisioning import create_account, create_user
users, password = int(sys.argv[1]), sys.argv[2]
create_account(name="Load", owner_username="load0", owner_email="load0@load.example",
               password=password)
for number in range(1, users):
    create_user(username=f"load{number}", email=f"load{number}@load.example",
                account_name="Load", role="member", password=password)
"""


class TimeUp(Exception):
    """The run's time is over: the simulated user starts no further request."""


@dataclass
class Tally:
    """What every simulated user saw, under one lock."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    server_errors: int = 0
    unanswered: int = 0
    # What the audit trail must hold afterwards.
    sign_ins: int = 0
    revoked_rows: int = 0
    password_changes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, seconds: float, status: int, expected: int) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors += 1
            if status == 0:
                self.unanswered += 1
            if status == expected:
                self.latencies[action].append(seconds)
            else:
                self.failures[f"{action} {status}"] += 1


class SimulatedUser(threading.Thread):
    def __init__(self, number: int, port: int, deadline: float, think: float, tally: Tally):
        super().__init__(name=f"load{number}", daemon=True)
        self.number = number
        self.username = f"load{number}"
        self.password = FIRST_PASSWORD
        self.port = port
        self.deadline = deadline
        self.think = think
        self.tally = tally
        self.random = random.Random(number)
        self.access = ""
        self.refresh = ""
        self.iteration = 0

    def call(
        self, action: str, method: str, path: str, expected: int, body: dict | None = None
    ) -> dict | list | None:
        """One request; its JSON answer when it got ``expected``, else None."""
        if time.monotonic() >= self.deadline:
            raise TimeUp
        headers = {"User-Agent": API_CLIENT}
        if self.access:
            headers["Authorization"] = f"Bearer {self.access}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            reply = send(self.port, method, path, headers, data, timeout=REQUEST_TIMEOUT_SECONDS)
        except OSError:
            self.tally.add(action, time.perf_counter() - started, 0, expected)
            return None
        self.tally.add(action, time.perf_counter() - started, reply.status, expected)
        if reply.status != expected:
            return None
        return reply.json() if reply.body else {}

    def sign_in(self) -> dict | None:
        self.access = ""
        signed_in = self.call(
            "sign_in",
            "POST",
            "/api/auth/login",
            200,
            {"username": self.username, "password": self.password},
        )
        if signed_in is not None:
            with self.tally.lock:
                self.tally.sign_ins += 1
        return signed_in

    def run(self) -> None:
        try:
            # Users arrive over the first rounds, not all in the same instant.
            time.sleep(self.random.uniform(0, 4 * self.think))
            while True:
                self.iteration += 1
                self.one_round()
                time.sleep(self.random.uniform(0, 2 * self.think))
        except TimeUp:
            return

    def one_round(self) -> None:
        """What a signed-in client does most (list, refresh) every round; the rarer,
        costlier actions (another device signing in, sign-outs, a password change)
        every few rounds."""
        if not self.access:
            tokens = self.sign_in()
            if tokens is None:
                return
            self.access, self.refresh = tokens["access"], tokens["refresh"]
        self.call("list", "GET", "/api/auth/sessions", 200)
        refreshed = self.call(
            "refresh", "POST", "/api/auth/refresh", 200, {"refresh": self.refresh}
        )
        if refreshed is not None:
            self.access, self.refresh = refreshed["access"], refreshed["refresh"]
        # Staggered by user, so that every round some users do each of these.
        turn = self.iteration + self.number
        if turn % NEW_DEVICE_EVERY == 0:
            device = self.other_device_signs_in()
            if device is not None:
                self.revoke(device["session"]["id"])
        if turn % REVOKE_OTHERS_EVERY == 0:
            self.other_device_signs_in()
            self.revoke_others()
        if turn % CHANGE_PASSWORD_EVERY == 0:
            self.change_password()

    def other_device_signs_in(self) -> dict | None:
        mine = self.access
        try:
            return self.sign_in()
        finally:
            self.access = mine

    def revoke(self, session_id: str) -> None:
        if self.call("revoke", "DELETE", f"/api/auth/sessions/{session_id}", 204) is not None:
            with self.tally.lock:
                self.tally.revoked_rows += 1

    def revoke_others(self) -> None:
        ended = self.call("revoke_others", "POST", "/api/auth/sessions/revoke-others", 200)
        if ended is not None and ended["revoked_count"]:
            with self.tally.lock:
                self.tally.revoked_rows += 1  # one row for the batch

    def change_password(self) -> None:
        new = f"load test passphrase {secrets.token_hex(6)}"
        changed = self.call(
            "change_password",
            "PUT",
            "/api/auth/password",
            200,
            {"current_password": self.password, "new_password": new},
        )
        if changed is not None:
            self.password = new
            with self.tally.lock:
                self.tally.password_changes += 1


def audit_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        sign_ins = connection.execute(
            "SELECT count(*) FROM audit_loginevent WHERE success"
        ).fetchone()[0]
        rows = dict(
            connection.execute(
                "SELECT action, count(*) FROM audit_auditevent GROUP BY action"
            ).fetchall()
        )
    return {
        "sign_ins": sign_ins,
        "revoked_rows": rows.get("session.revoked", 0),
        "password_changes": rows.get("password.changed", 0),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def start_server(workdir: Path, url: str, redis_url: str) -> tuple[Process, int]:
    """The portal as `make serve` runs it (migrate, then gunicorn with gunicorn.conf.py),
    in production mode over plain HTTP on loopback; the process and its port."""
    port = free_port()
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="securityportal.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_ALLOW_PLAIN_HTTP="1",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        # Every simulated user comes from 127.0.0.1 and acts several times a second:
        # the per-IP sign-in rate and the per-user API rate would refuse them, which
        # measures the limits, not the portal. The lockout stays as configured.
        LOGIN_RATE_PER_IP="1000000/min",
        SESSION_API_RATE="1000000/min",
        LOG_LEVEL="WARNING",
        # No mail server: the new-device e-mails of the simulated sign-ins go nowhere.
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    python = sys.executable
    run_checked([python, "manage.py", "migrate", "--noinput"], cwd=PROJECT, env=env)
    server = Process(
        [python, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=PROJECT,
        env=env,
        log=workdir / "server.log",
    )
    return server, port


def wait_ready(server: Process, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            if send(port, "GET", "/readyz", timeout=5).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"the server was not ready within {seconds} s")


def report(args: argparse.Namespace, tally: Tally, audit: dict[str, int], seconds: float) -> str:
    total = sum(tally.statuses.values())
    lines = [
        f"{args.users} simulated users for {seconds:.0f} s (think time up to "
        f"{2 * args.think:.1f} s between rounds): {total} requests, "
        f"{total / seconds:.1f} per second; {tally.server_errors} answers 5xx, "
        f"{tally.unanswered} requests unanswered.",
        "",
        "| action | done | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for action in ACTIONS:
        values = tally.latencies.get(action, [])
        if values:
            p50, p95, top = (
                1000 * percentile(values, 0.5),
                1000 * percentile(values, 0.95),
                1000 * max(values),
            )
            lines.append(f"| {action} | {len(values)} | {p50:.0f} | {p95:.0f} | {top:.0f} |")
    lines += [
        "",
        "| audit rows | actions seen | rows written |",
        "|---|---:|---:|",
        f"| sign-in events (success) | {tally.sign_ins} | {audit['sign_ins']} |",
        f"| session.revoked | {tally.revoked_rows} | {audit['revoked_rows']} |",
        f"| password.changed | {tally.password_changes} | {audit['password_changes']} |",
    ]
    if tally.failures:
        failed = ", ".join(f"{name}: {count}" for name, count in sorted(tally.failures.items()))
        lines += ["", f"Answers other than expected: {failed}."]
    return "\n".join(lines)


def write_doc(summary: str, args: argparse.Namespace) -> None:
    """Replace the Load section of docs/PERFORMANCE.md with this run (or add it)."""
    text = DOC.read_text()
    intro = (
        "`make load` (bench/load_portal.py): simulated users against the portal as "
        "`make serve` runs it (gunicorn.conf.py, PostgreSQL, a private Redis) on loopback. "
        "Each user signs in, then every round lists its sessions and refreshes its "
        f"token; one round in {NEW_DEVICE_EVERY} a second device signs in and is "
        f"revoked, one in {REVOKE_OTHERS_EVERY} it signs out its other sessions, one in "
        f"{CHANGE_PASSWORD_EVERY} it changes its password (Argon2 at production cost), "
        "staggered so that every round some users do each. All users come from "
        "127.0.0.1, so the run raises the per-IP sign-in rate and the per-user API rate "
        "of its server; the lockout stays as configured. "
        "A run fails on any 5xx, any request left unanswered and any action without its "
        "audit row. Latencies are per request, as the client saw them, for answers with "
        "the expected status. Command: "
        f'`make load LOAD_ARGS="--users {args.users} --seconds {args.seconds}"`.'
    )
    body = f"{SECTION}\n\n{textwrap.fill(intro, width=88, break_on_hyphens=False)}\n\n{summary}\n"
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        DOC.write_text(text.rstrip("\n") + "\n\n" + body)
        return
    end = text.find("\n## ", start + len(SECTION) + 2)
    rest = "" if end == -1 else text[end:]
    DOC.write_text(text[: start + 1] + body + rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between rounds")
    parser.add_argument("--database", default="sp_load", help="scratch database (dropped)")
    parser.add_argument("--write-doc", action="store_true", help="update docs/PERFORMANCE.md")
    parser.add_argument("--note", default="", help="a line about the machine, for the doc")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 500 or not 1 <= args.seconds <= 3600:
        parser.error("--users must be 1..500 and --seconds 1..3600")

    url = database_url(args.database)
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    redis = server = None
    status = 2
    try:
        create_database(args.database)
        redis, redis_url = start_redis(workdir)
        server, port = start_server(workdir, url, redis_url)
        wait_ready(server, port)
        env = clean_environment(
            DJANGO_SETTINGS_MODULE="securityportal.settings",
            DJANGO_SECRET_KEY="provisioning-only",
            DATABASE_URL=url,
        )
        run_checked(
            [sys.executable, "-c", PROVISION, str(args.users), FIRST_PASSWORD],
            cwd=PROJECT,
            env=env,
        )
        print(f"{args.users} users for {args.seconds} s against 127.0.0.1:{port}", flush=True)
        tally = Tally()
        started = time.monotonic()
        deadline = started + args.seconds
        users = [SimulatedUser(n, port, deadline, args.think, tally) for n in range(args.users)]
        for user in users:
            user.start()
        for user in users:
            user.join(timeout=max(0, deadline + STOP_GRACE_SECONDS - time.monotonic()))
        elapsed = time.monotonic() - started
        if any(user.is_alive() for user in users):
            raise BenchError("simulated users still running after the grace period")
        audit = audit_counts(url)
        tracebacks = server.log.read_text(errors="replace").count("Traceback")
        summary = report(args, tally, audit, elapsed)
        summary += f"\n\nTracebacks in the server's log: {tracebacks}."
        if args.note:
            summary += f" {args.note}"
        print(summary)
        if args.write_doc:
            write_doc(summary, args)
        complete = all(audit[name] == getattr(tally, name) for name in audit)
        clean = tally.server_errors == tally.unanswered == tracebacks == 0
        status = 0 if clean and complete else 1
    except BenchError as error:
        print(f"load: {error}", file=sys.stderr)
    finally:
        for process in (server, redis):
            if process is not None:
                process.stop()
        drop_database(args.database)
        if status == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"load: the server's log is in {workdir}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
