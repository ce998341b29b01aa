"""The models and their migrations agree: a fresh database gets every column and index."""

import io

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.state import ProjectState

from securityportal.migration_ops import DropIndexConcurrently


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _indexes_of_our_tables() -> list[tuple[str, str, list[str], bool]]:
    """Each plain B-tree index of the portal's own tables (no expression, no
    condition): its name, table, key (column, operator class and order of each part)
    and whether it is unique. The many-to-many tables Django makes for the user's
    groups and permissions are Django's, and left out."""
    tables = [
        model._meta.db_table
        for label in ("accounts", "audit", "user_sessions")
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index.relname, owner.relname, i.indisunique,
                   array(SELECT a.attname || ' ' || opclass.opcname || ' ' || i.indoption[k]
                         FROM generate_subscripts(i.indkey, 1) AS k
                         JOIN pg_attribute a
                           ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k]
                         JOIN pg_opclass opclass ON opclass.oid = i.indclass[k]
                         ORDER BY k)
            FROM pg_index i
            JOIN pg_class index ON index.oid = i.indexrelid
            JOIN pg_class owner ON owner.oid = i.indrelid
            JOIN pg_am method ON method.oid = index.relam
            WHERE owner.relname = ANY(%s) AND owner.relnamespace = current_schema()::regnamespace
              AND method.amname = 'btree' AND i.indpred IS NULL AND i.indexprs IS NULL
            """,
            [tables],
        )
        return [(name, table, key, unique) for name, table, unique, key in cursor.fetchall()]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_no_index_repeats_the_first_columns_of_another_index_of_its_table():
    # A second index on the same leading columns costs every insert and tempts the
    # generic plan of a prepared statement, which picked a bare key index and then
    # read and sorted all of a large account's sessions (test_query_plans.py).
    indexes = _indexes_of_our_tables()

    repeated = [
        f"{name} repeats the start of {other} on {table}"
        for name, table, key, unique in indexes
        for other, other_table, other_key, _ in indexes
        if not unique
        and other != name
        and other_table == table
        and len(key) <= len(other_key)
        and other_key[: len(key)] == key
    ]

    assert indexes
    assert not repeated


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_hashed_secret_has_one_index_its_unique_one():
    # Django gives a unique text column on PostgreSQL a second, varchar_pattern_ops
    # index for LIKE 'prefix%'. A hash is looked up whole and never by its prefix, so
    # that index is read by nothing, yet written on every sign-in, refresh and
    # activity bump (user_sessions 0004 dropped it).
    session = apps.get_model("user_sessions", "Session")._meta
    refresh = apps.get_model("user_sessions", "RefreshToken")._meta
    hashed = {
        (session.db_table, session.get_field("key_hash").column),
        (refresh.db_table, refresh.get_field("token_hash").column),
    }

    on_a_hash = sorted(
        (table, unique)
        for _, table, key, unique in _indexes_of_our_tables()
        if any((table, part.split()[0]) in hashed for part in key)
    )

    assert on_a_hash == sorted((table, True) for table, _ in hashed)


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_sqlmigrate_shows_an_index_dropped_and_rebuilt_without_blocking():
    # What an operator reviews before a deploy is the SQL the migration will run.
    def sql(*backwards: str) -> str:
        out = io.StringIO()
        call_command("sqlmigrate", *backwards, "user_sessions", "0004", stdout=out)
        return out.getvalue()

    assert (
        'DROP INDEX CONCURRENTLY IF EXISTS "user_sessions_session_key_hash_298c3066_like";'
        in sql()
    )
    assert (
        'CREATE INDEX CONCURRENTLY "user_sessions_session_key_hash_298c3066_like" '
        'ON "user_sessions_session" ("key_hash" varchar_pattern_ops);'
    ) in sql("--backwards")
    assert "BEGIN;" not in sql()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_concurrent_drop_in_an_atomic_migration_is_refused_naming_the_fix():
    # squashmigrations writes its migration without atomic = False.
    drop = DropIndexConcurrently("session_revoked_at", table="user_sessions_session", column="x")

    with (
        connection.schema_editor(atomic=True) as editor,
        pytest.raises(ImproperlyConfigured, match="atomic = False"),
    ):
        drop.database_forwards("user_sessions", editor, ProjectState(), ProjectState())
