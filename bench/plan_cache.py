"""The PostgreSQL server's CPU per run of the browser's session lookup, planned each way.

    .venv/bin/python -m bench.plan_cache \\
        --database-url postgres://postgres@127.0.0.1:5432/NAME [--runs 5000 --rounds 2]

Signs a user in on the scratch database NAME (migrated here), keeps the statement the
portal sends to read a request's session (session, user and account joined), and runs
it ``--runs`` times on a connection of its own per way of sending it, reading the
backend's CPU counter in /proc before and after (so the server must run on this
machine). Best of ``--rounds``. The ways:

- values written into the statement, as Django sends them by default: parsed and
  planned on every run;
- prepared, PostgreSQL left to choose (``plan_cache_mode`` auto), as the portal sends
  it: after five runs the plan made once for any values is kept;
- prepared, planned again on every run (``force_custom_plan``): what keeping a plan
  made for each run's values would cost instead."""

import argparse
from typing import Any

from bench.in_process import set_up_portal

WAYS = {
    "values written in (Django's default)": (False, None),
    "prepared, plan_cache_mode auto (the portal's)": (True, None),
    "prepared, force_custom_plan": (True, "force_custom_plan"),
}


def _session_lookup(database_url: str) -> Any:
    """The statement the portal sends to read a signed-in browser's session, captured
    from a real request."""
    set_up_portal(database_url, secret_key="plan-cache-bench-secret-key")
    from django.test import Client

    from bench.cpu_cost import credentials
    from securityportal.tests.plans import sent_by

    cookie = credentials("portal")["cookie"]

    def status() -> None:
        answer = Client(HTTP_HOST="127.0.0.1").get("/session/status/", **cookie)
        assert answer.status_code == 200, f"not signed in: {answer.status_code}"

    (lookup,) = [sent for sent in sent_by(status) if '"key_hash" = %s' in sent.template]
    return lookup


def _server_cpu_ms(
    database_url: str, statement: Any, *, prepared: bool, mode: str | None, runs: int
) -> float:
    import psycopg

    from bench.cpu_cost import backend_cpu_ns

    cursor_factory = psycopg.Cursor if prepared else psycopg.ClientCursor
    with psycopg.connect(database_url, autocommit=True, cursor_factory=cursor_factory) as db:
        if mode is not None:
            db.execute(f"SET plan_cache_mode = {mode}")
        backend = db.info.backend_pid

        def run() -> None:
            db.execute(statement.template, statement.params, prepare=prepared).fetchall()

        for _ in range(50):  # past the five runs after which a plan may be kept
            run()
        before = backend_cpu_ns(backend)
        for _ in range(runs):
            run()
        return (backend_cpu_ns(backend) - before) / runs / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    statement = _session_lookup(args.database_url)
    best = {way: float("inf") for way in WAYS}
    for _ in range(args.rounds):
        for way, (prepared, mode) in WAYS.items():
            cost = _server_cpu_ms(
                args.database_url, statement, prepared=prepared, mode=mode, runs=args.runs
            )
            best[way] = min(best[way], cost)
    print("| the session lookup, sent | server CPU per run (ms) |\n|---|---|")
    for way, cost in best.items():
        print(f"| {way} | {cost:.3f} |")


if __name__ == "__main__":
    main()
