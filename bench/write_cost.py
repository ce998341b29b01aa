"""The WAL PostgreSQL writes for each write the session tables take on a hot path.

    .venv/bin/python -m bench.write_cost \\
        --database-url postgres://postgres@127.0.0.1:5432/NAME \\
        [--writes 500 --rounds 3] [--before APP.MIGRATION]

A write costs its row's page and an entry in each index it reaches: an insert enters
every index of its table, and so does an update of an indexed column
(``last_seen_at`` is in three of the session's indexes, so its bump is never a HOT
update). The WAL is what the server writes for that, to its disk and to each
replica. Measured through the portal's own functions, in this process, on the
scratch database NAME (migrated here): the server's WAL position
(``pg_current_wal_insert_lsn``) before and after a batch of ``--writes``, per write,
best of ``--rounds`` (a checkpoint during a batch adds whole pages to it). The
position is the whole server's: run it on a quiet one.

``--before APP.MIGRATION`` measures the schema as it was at that migration too, in
the same rounds: each round migrates back to it, measures, and migrates forward
again. What an index change saves, side by side."""

import argparse
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from bench.in_process import set_up_portal

CLIENT = {"ip": "203.0.113.7", "user_agent": "write-cost bench"}
NOW_SCHEMA = "as migrated"


class Write(NamedTuple):
    # What each write of a batch needs, made before the batch is measured: given the
    # user, the moment and how many.
    needs: Callable[[Any, datetime, int], list[Any]]
    # One write, given one of those and the moment.
    write: Callable[[Any, datetime], object]


def _writes() -> dict[str, Write]:
    """The writes measured, by name."""
    from django.conf import settings

    from securityportal.client import ClientInfo
    from sessions.digest import sha256_hex
    from sessions.lifecycle import open_session
    from sessions.refresh import rotate_refresh_token, start_api_session
    from sessions.validation import record_activity

    client = ClientInfo(**CLIENT)
    later = timedelta(seconds=settings.SESSION_ACTIVITY_WRITE_SECONDS)

    def browser_sessions(user: Any, now: datetime, count: int) -> list[Any]:
        return [
            open_session(
                user=user,
                kind="browser",
                client=client,
                now=now,
                key_hash=sha256_hex(secrets.token_urlsafe()),
            )
            for _ in range(count)
        ]

    def refresh_tokens(user: Any, now: datetime, count: int) -> list[Any]:
        return [start_api_session(user=user, client=client, now=now).refresh for _ in range(count)]

    def nothing(user: Any, now: datetime, count: int) -> list[Any]:
        return [user] * count

    return {
        "browser sign-in: the session row": Write(
            nothing,
            lambda user, now: browser_sessions(user, now, 1),
        ),
        "API sign-in: the session row and its refresh token": Write(
            nothing,
            lambda user, now: start_api_session(user=user, client=client, now=now),
        ),
        "refresh: the rotation (the old token marked, the next stored)": Write(
            refresh_tokens,
            lambda token, now: rotate_refresh_token(token=token, ip=CLIENT["ip"], now=now),
        ),
        "activity bump: last_seen_at": Write(
            browser_sessions,
            lambda session, now: record_activity(session, now + later),
        ),
    }


def _wal_position() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        return cursor.fetchone()[0]


def _bytes_between(start: str, end: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [end, start])
        return int(cursor.fetchone()[0])


def _round(user: Any, writes: int) -> dict[str, float]:
    from django.utils import timezone

    costs = {}
    for name, (needs, write) in _writes().items():
        now = timezone.now()
        items = needs(user, now, writes)
        start = _wal_position()
        for item in items:
            write(item, now)
        costs[name] = _bytes_between(start, _wal_position()) / writes
    return costs


def _migrate(target: str | None) -> None:
    from django.core.management import call_command

    if target is None:
        call_command("migrate", verbosity=0)
    else:
        app, migration = target.split(".", 1)
        call_command("migrate", app, migration, verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="APP.MIGRATION")
    args = parser.parse_args()
    set_up_portal(args.database_url, secret_key="write-cost-bench-secret-key")
    from django.contrib.auth import get_user_model

    from accounts.models import Account

    stamp = secrets.token_hex(4)
    user = get_user_model().objects.create_user(
        f"writes-{stamp}",
        email=f"writes-{stamp}@bench.example",
        account=Account.objects.create(name=f"Write cost {stamp}"),
    )
    schemas = [NOW_SCHEMA] if args.before is None else [args.before, NOW_SCHEMA]
    best: dict[str, dict[str, float]] = {schema: {} for schema in schemas}
    for _ in range(args.rounds):
        for schema in schemas:
            _migrate(None if schema == NOW_SCHEMA else schema)
            for name, cost in _round(user, args.writes).items():
                best[schema][name] = min(best[schema].get(name, cost), cost)
    _migrate(None)
    print(f"| write | {' | '.join(f'WAL bytes, {schema}' for schema in schemas)} |")
    print(f"|---|{'---|' * len(schemas)}")
    for name in best[NOW_SCHEMA]:
        print(f"| {name} | {' | '.join(f'{best[s][name]:.0f}' for s in schemas)} |")


if __name__ == "__main__":
    main()
