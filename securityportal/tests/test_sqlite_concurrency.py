from conftest import run_python
from securityportal.tests import sqlite_writers


def test_concurrent_writers_on_the_embedded_database_never_see_database_is_locked(tmp_path):
    # With SQLite's default (deferred) transactions this fails at once with
    # "OperationalError: database is locked"; BEGIN IMMEDIATE and the busy
    # timeout in settings make writers queue instead.
    result = run_python(
        "-m", "securityportal.tests.sqlite_writers", SQLITE_PATH=str(tmp_path / "portal.sqlite3")
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"rows={sqlite_writers.THREADS * sqlite_writers.ROUNDS}"
    assert lines[:-1] == [], lines
