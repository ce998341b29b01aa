"""What validating a session costs per request, against an anonymous page in the same run.

    DJANGO_SECRET_KEY=bench .venv/bin/python bench/request_cost.py [--requests 300]

Uses a throwaway SQLite file unless DATABASE_URL is set (then the database it
names, which must exist, is migrated and filled: use a scratch one, e.g.
`createdb -h 127.0.0.1 -U postgres portal_bench`). Reports, per scenario, the
median time per request and its ratio to the baseline, and the queries and
writes (INSERT/UPDATE/DELETE) per request. All requests of a scenario fall in
one minute, so a live session's activity write is due at most once per run."""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securityportal.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.models import Account, User  # noqa: E402

PASSWORD = "bench password long enough"
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0.0.0 Safari/537.36"
WRITES = ("INSERT", "UPDATE", "DELETE")


def measure(name: str, send, requests: int) -> dict:
    send()  # warm up: templates, first activity write
    timings, queries, writes = [], 0, 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = send()
            timings.append(time.perf_counter() - started)
        assert response.status_code < 400, (name, response.status_code)
        queries += len(captured)
        writes += sum(q["sql"].lstrip().upper().startswith(WRITES) for q in captured)
    return {
        "name": name,
        "ms": statistics.median(timings) * 1000,
        "queries": queries / requests,
        "writes": writes / requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    setup_test_environment()
    call_command("migrate", verbosity=0)
    account = Account.objects.create(name=f"Bench {time.time_ns()}")
    user = User.objects.create_user(
        f"bench{time.time_ns()}", f"{time.time_ns()}@bench.example", PASSWORD, account=account
    )

    browser = Client(HTTP_USER_AGENT=CHROME)
    browser.post("/login/", {"username": user.username, "password": PASSWORD})
    api = Client(HTTP_USER_AGENT="bench")
    tokens = api.post(
        "/api/auth/login",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    ).json()
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    anonymous = Client()

    results = [
        measure(
            "baseline: anonymous GET /login/", lambda: anonymous.get("/login/"), args.requests
        ),
        measure(
            "browser GET /settings/security/",
            lambda: browser.get("/settings/security/"),
            args.requests,
        ),
        measure("API GET /api/auth/me", lambda: bearer.get("/api/auth/me"), args.requests),
        measure(
            "API GET /api/auth/sessions", lambda: bearer.get("/api/auth/sessions"), args.requests
        ),
    ]
    baseline = results[0]["ms"]
    print(f"{connection.vendor}, {args.requests} requests per scenario")
    print(f"{'scenario':40} {'median ms':>10} {'x base':>7} {'queries':>8} {'writes':>7}")
    for row in results:
        print(
            f"{row['name']:40} {row['ms']:10.2f} {row['ms'] / baseline:7.2f} "
            f"{row['queries']:8.2f} {row['writes']:7.2f}"
        )


if __name__ == "__main__":
    main()
