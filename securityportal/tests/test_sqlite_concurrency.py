import os
import subprocess
import sys
from pathlib import Path

from securityportal.tests import sqlite_writers

ROOT = Path(__file__).resolve().parents[2]


def run_writers(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SECRET_KEY="x" * 50, SQLITE_PATH=str(tmp_path / "portal.sqlite3"))
    return subprocess.run(
        [sys.executable, "-m", "securityportal.tests.sqlite_writers"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_concurrent_writers_on_the_embedded_database_never_see_database_is_locked(tmp_path):
    # With SQLite's default (deferred) transactions this fails at once with
    # "OperationalError: database is locked"; BEGIN IMMEDIATE and the busy
    # timeout in settings make writers queue instead.
    result = run_writers(tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"rows={sqlite_writers.THREADS * sqlite_writers.ROUNDS}"
    assert lines[:-1] == [], lines
