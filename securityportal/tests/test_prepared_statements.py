"""On PostgreSQL the portal's repeated statements are prepared: the server plans the
session lookup (three tables joined) once per connection instead of on every signed-in
request; unprepared, the lookup had cost it four times as much (docs/PERFORMANCE.md)."""

import pytest
from django.db import connection

from conftest import api_login, bearer, browser_for

pytestmark = pytest.mark.postgres_only

# psycopg prepares a statement once a connection has run it prepare_threshold (5)
# times (securityportal/settings.py); twice that leaves room for a rolled-back
# savepoint among them, after which psycopg counts again from nothing.
REQUESTS = 10
SESSION_LOOKUP = 'FROM "user_sessions_session" INNER JOIN "accounts_user"'


def lookup_is_prepared(condition: str) -> bool:
    """Whether PostgreSQL holds the session lookup that filters on ``condition`` as a
    prepared statement of this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return any(
            SESSION_LOOKUP in statement and condition in statement
            for (statement,) in cursor.fetchall()
        )


def test_a_browsers_session_lookup_is_planned_once_per_connection(alice):
    browser = browser_for(alice)

    for _ in range(REQUESTS):
        assert browser.get("/session/status/").status_code == 200

    # The key's hash travels as a parameter: one plan serves every browser.
    assert lookup_is_prepared('"user_sessions_session"."key_hash" = $')


def test_an_api_clients_session_lookup_is_planned_once_per_connection(alice):
    api = bearer(api_login(alice)["access"])

    for _ in range(REQUESTS):
        assert api.get("/api/auth/me").status_code == 200

    assert lookup_is_prepared('"user_sessions_session"."id" = $')
