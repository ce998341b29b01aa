"""Every list the pages, the API, the admin and the purges read is served by an index,
on a database large enough for PostgreSQL's planner to choose between an index and a
sequential scan on its own: real rows, fresh statistics, no planner switches turned off.

The data is loaded once for the module (by ``seed_scale``, smaller than the million
rows of ``make scale-report``, whose plans are the same) and rolled back at the end."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from conftest import PASSWORD
from securityportal.tests.plans import LIST_QUERIES, ListQuery, Plan, Scene, generic_plan, plan
from sessions.lifecycle import Scope, revoke_account_sessions
from sessions.models import Session

pytestmark = pytest.mark.postgres_only

# Large enough that a sequential scan of a big table costs the planner more than an
# index does for every list below, planned for the large account's values or for any
# account's (checked against the plans at a million rows). A generic plan reckons
# each of the two accounts holds half of each table: with 20,000 audit events,
# counting the trail up to the admin's cap (10,001) read the table and sorted it.
SIZES = {"users": 2000, "sessions": 20_000, "events": 100_000, "audit_events": 100_000}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The seeded database for the whole module, never committed."""
    # The suite's fast hasher, so signing in through /login/ checks the shared hash.
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic():
        with fast_hashing:
            call_command("seed_scale", **SIZES, password=PASSWORD, stdout=StringIO())
        # The foreign keys are checked at commit, which never comes: check them now, once,
        # rather than again as each test's teardown checks its own rows.
        connection.check_constraints()
        yield
        transaction.set_rollback(True)


def _described(found: Plan) -> str:
    return f"{found.summary()}\n{found.sql}"


def _expected(query: ListQuery, found: Plan) -> str:
    return f"expected one of {query.indexes}: {_described(found)}"


@pytest.mark.parametrize("query", LIST_QUERIES, ids=[query.name for query in LIST_QUERIES])
def test_every_list_of_a_large_account_is_read_through_its_index(seeded, db, query):
    found = plan(query.statement(Scene.largest_account(PASSWORD)).sql)

    assert query.read_through_its_index(found), _expected(query, found)


@pytest.mark.parametrize("query", LIST_QUERIES, ids=[query.name for query in LIST_QUERIES])
def test_no_list_of_a_small_account_reads_its_large_neighbours_rows(seeded, db, query):
    found = plan(query.statement(Scene.smallest_account(PASSWORD)).sql)

    assert not found.sequential_scans_of_big_tables, _described(found)
    assert found.indexes, _described(found)


@pytest.mark.parametrize("query", LIST_QUERIES, ids=[query.name for query in LIST_QUERIES])
def test_every_list_keeps_its_index_in_the_one_plan_a_connection_may_keep_for_all_accounts(
    seeded, db, query
):
    # A prepared statement run five times may be planned once for any values. A plan
    # made without knowing the account must not scan a table every account shares.
    found = generic_plan(query.statement(Scene.largest_account(PASSWORD)))

    assert query.read_through_its_index(found), _expected(query, found)


def test_signing_everyone_out_is_one_update_however_many_sessions(seeded, db):
    scene = Scene.largest_account(PASSWORD)
    live = Session.objects.filter(account=scene.account).live(scene.now).count()

    with CaptureQueriesContext(connection) as sent:
        count = revoke_account_sessions(
            account=scene.account, scope=Scope.ALL, keep=None, actor=scene.owner, ip=None
        )

    updates = [q["sql"] for q in sent.captured_queries if q["sql"].startswith("UPDATE")]
    assert count >= live > 1000
    assert len(updates) == 1
    assert not Session.objects.filter(account=scene.account).live(scene.now).exists()
