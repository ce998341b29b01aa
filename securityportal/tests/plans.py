"""Every list the portal reads, and what PostgreSQL's planner makes of it.

Each ``ListQuery`` runs the real code path (the function a page or endpoint calls, or
the admin page itself) and keeps the SQL it sent; ``plan`` asks PostgreSQL how it
would run that SQL, and ``generic_plan`` how it would run it planned once for any
values, as a prepared statement may be. The query-plan tests and
``bench/scale_report.py`` share this, so the report shows the very plans the tests
assert."""

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.test import Client
from django.utils import timezone

from accounts.models import Account, User
from audit.activity import sign_ins_of
from audit.chart import daily_sign_ins, forget_settled_days
from audit.models import AuditEvent, LoginEvent
from securityportal.purge import delete_in_batches
from sessions.lifecycle import Scope, live_sessions_for_user, revoke_account_sessions
from sessions.models import Session
from sessions.signed_in import count_signed_in, signed_in_people
from sessions.store import SessionStore

# The tables that grow with use; a sequential scan of one of them is a page that gets
# slower every day.
BIG_TABLES = frozenset(
    {Session._meta.db_table, LoginEvent._meta.db_table, AuditEvent._meta.db_table}
)
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
INDEX_NODES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


@dataclass(frozen=True)
class Scan:
    node: str
    table: str | None
    index: str | None

    def __str__(self) -> str:
        if self.table is None:
            return f"{self.node} on {self.index}"
        if self.index is not None:
            return f"{self.node} on {self.table} using {self.index}"
        return f"{self.node} on {self.table}"


@dataclass(frozen=True)
class Plan:
    sql: str
    tree: dict[str, Any]
    # For a plan made with ``analyze``: how long the statement ran, and how much of
    # that PostgreSQL spent compiling it (JIT), if it did.
    milliseconds: float | None = None
    jit_milliseconds: float | None = None

    @property
    def scans(self) -> list[Scan]:
        """Every node that reads a table or an index, outermost first."""
        return list(_scans(self.tree))

    @property
    def indexes(self) -> set[str]:
        return {scan.index for scan in self.scans if scan.node in INDEX_NODES}

    @property
    def sequential_scans_of_big_tables(self) -> list[Scan]:
        return [s for s in self.scans if s.node == "Seq Scan" and s.table in BIG_TABLES]

    def summary(self) -> str:
        return "; ".join(dict.fromkeys(str(scan) for scan in self.scans))


def _scans(node: dict[str, Any]) -> Iterator[Scan]:
    table = node.get("Relation Name")
    index = node.get("Index Name")
    if table is not None or index is not None:
        yield Scan(node=node["Node Type"], table=table, index=index)
    for child in node.get("Plans", ()):
        yield from _scans(child)


@dataclass(frozen=True)
class Statement:
    """One statement as Django sent it: ``template`` with ``%s`` in each value's place
    and its ``params``, and ``sql``, the same with the values written in."""

    template: str
    params: tuple[Any, ...]
    sql: str


def plan(sql: str, *, analyze: bool = False) -> Plan:
    """PostgreSQL's plan for ``sql``. With ``analyze`` the statement really runs (a
    write is rolled back) and the plan carries its time."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        raw = cursor.fetchone()[0]
        transaction.set_rollback(True)
    document = _document(raw)
    return Plan(
        sql=sql,
        tree=document["Plan"],
        milliseconds=document.get("Execution Time"),
        jit_milliseconds=document.get("JIT", {}).get("Timing", {}).get("Total"),
    )


def generic_plan(statement: Statement) -> Plan:
    """PostgreSQL's generic plan for ``statement``: the one plan made for any values,
    which a connection that has run a prepared statement five times may keep for every
    later run (``plan_cache_mode`` "auto", DECISIONS.md). PostgreSQL 15 has no
    ``EXPLAIN (GENERIC_PLAN)``: the statement is prepared, and explained as executed
    with the planner told to plan it generically."""
    numbers = itertools.count(1)
    numbered = re.sub(
        r"%([s%])",
        lambda found: "%" if found[1] == "%" else f"${next(numbers)}",
        statement.template,
    )
    assert next(numbers) == len(statement.params) + 1, f"a value per placeholder: {statement}"
    # A name of its own per call: a probe left by a failed call harms no later one.
    name = f"generic_plan_{next(_probes)}"
    values = ", ".join(["%s"] * len(statement.params))
    execute = f"EXECUTE {name}({values})" if values else f"EXECUTE {name}"
    # EXPLAIN takes no bound parameters: the values are written in.
    explain = connection.ops.compose_sql(f"EXPLAIN (FORMAT JSON) {execute}", statement.params)
    # Neither a savepoint nor a rollback: psycopg answers a rollback by deallocating
    # every prepared statement of the connection, this one included. If a statement
    # fails, the caller's transaction (a test's) is rolled back, which undoes the SET.
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE {name} AS {numbered}")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(explain)
        raw = cursor.fetchone()[0]
        cursor.execute("RESET plan_cache_mode")
        cursor.execute(f"DEALLOCATE {name}")
    return Plan(sql=statement.sql, tree=_document(raw)["Plan"])


_probes = itertools.count()


def _document(raw: str | list[Any]) -> dict[str, Any]:
    """The one plan EXPLAIN (FORMAT JSON) answered, as text or already decoded."""
    (document,) = json.loads(raw) if isinstance(raw, str) else raw
    return document


class _Stop(Exception):
    pass


def sent_by(action: Callable[[], Any], *, stop_at: str | None = None) -> list[Statement]:
    """The statements ``action`` sends, in a transaction that is rolled back, so nothing
    it writes stays. With ``stop_at`` (e.g. "DELETE") it is interrupted just before the
    first such statement: a purge shows how it picks rows without deleting any."""
    sent: list[Statement] = []

    def record(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if stop_at is not None and sql.lstrip().upper().startswith(stop_at):
            raise _Stop
        result = execute(sql, params, many, context)
        if not many and sql.lstrip().upper().startswith(STATEMENTS):
            written = connection.ops.last_executed_query(context["cursor"], sql, params)
            sent.append(Statement(template=sql, params=tuple(params or ()), sql=written))
        return result

    try:
        with transaction.atomic(), connection.execute_wrapper(record):
            action()
            transaction.set_rollback(True)
    except _Stop:
        pass
    return sent


STATEMENTS = ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")


def reading(table: str, statements: list[Statement]) -> list[Statement]:
    """The statements that read or write ``table``."""
    return [statement for statement in statements if f'"{table}"' in statement.template]


@dataclass
class Scene:
    """Whose lists are read: the first owner of the account with the most users."""

    account: Account
    owner: User
    password: str
    now: datetime

    @classmethod
    def largest_account(cls, password: str) -> "Scene":
        return cls._of(_accounts().order_by("-size", "pk").first(), password)

    @classmethod
    def smallest_account(cls, password: str) -> "Scene":
        """A small tenant beside the large one: its lists must not walk the other's rows."""
        return cls._of(_accounts().order_by("size", "pk").first(), password)

    @classmethod
    def _of(cls, account: Account, password: str) -> "Scene":
        owner = User.objects.filter(account=account, role=User.Role.OWNER).order_by("pk").first()
        return cls(account=account, owner=owner, password=password, now=timezone.now())

    def owner_browser(self) -> Client:
        """A browser signed in as the owner through /login/, as a person would be."""
        browser = Client(HTTP_USER_AGENT=BROWSER)
        answer = browser.post(
            "/login/", {"username": self.owner.username, "password": self.password}
        )
        assert answer.status_code == 302, answer.content
        return browser


def _accounts() -> "QuerySet[Account]":
    return Account.objects.annotate(size=Count("users")).filter(size__gt=0)


@dataclass(frozen=True)
class ListQuery:
    """One list the UI, the API, the admin or a purge reads: where it shows, how to
    make the code send it, which table it reads and the indexes that may serve it for
    a large account (a small one may use any index: its rows are few however found)."""

    name: str
    shown_on: str
    table: str
    indexes: tuple[str, ...]
    statements: Callable[[Scene], list[Statement]]

    def statement(self, scene: Scene) -> Statement:
        """The statement of this list (the first that reads its table)."""
        found = reading(self.table, self.statements(scene))
        assert found, f"{self.name}: no statement read {self.table}"
        return found[0]

    def read_through_its_index(self, found: Plan) -> bool:
        """Whether ``found`` reads this list through one of its indexes, and no big
        table sequentially."""
        return bool(found.indexes & set(self.indexes)) and not found.sequential_scans_of_big_tables


def _live_sessions(scene: Scene) -> list[Statement]:
    return sent_by(lambda: live_sessions_for_user(scene.owner, scene.now))


def _sign_ins(scene: Scene) -> list[Statement]:
    return sent_by(lambda: sign_ins_of(scene.owner, limit=10))


def _sign_ins_after_a_page(scene: Scene) -> list[Statement]:
    cursor = sign_ins_of(scene.owner, limit=10).next
    assert cursor is not None, "the owner needs more than one page of sign-ins"
    return sent_by(lambda: sign_ins_of(scene.owner, limit=10, after=cursor))


def _chart(whose: str, *, kept: bool) -> Callable[[Scene], list[Statement]]:
    """The statement of the scene owner's (``whose="user"``) or account's sign-in chart:
    with ``kept``, on a view that finds the days before today in the cache, so it
    counts today alone; without, on one that finds nothing and counts the whole window."""

    def statements(scene: Scene) -> list[Statement]:
        owner = {"user": scene.owner} if whose == "user" else {"account": scene.account}
        forget_settled_days()
        if kept:
            daily_sign_ins(now=scene.now, **owner)
        return sent_by(lambda: daily_sign_ins(now=scene.now, **owner))

    return statements


def _signed_in_people(scene: Scene) -> list[Statement]:
    return sent_by(lambda: signed_in_people(scene.account, scene.now))


def _signed_in_people_after_a_page(scene: Scene) -> list[Statement]:
    # Pages of two: the small account beside the large one has only a few people.
    cursor = signed_in_people(scene.account, scene.now, limit=2).next
    assert cursor is not None, "the account needs more than one page of signed-in people"
    return sent_by(lambda: signed_in_people(scene.account, scene.now, limit=2, after=cursor))


def _signed_in_count(scene: Scene) -> list[Statement]:
    return sent_by(lambda: count_signed_in(scene.account, scene.now))


def _bulk_revoke(scene: Scene) -> list[Statement]:
    def revoke() -> None:
        revoke_account_sessions(
            account=scene.account, scope=Scope.ALL, keep=None, actor=scene.owner, ip=None
        )

    return [sent for sent in sent_by(revoke) if sent.sql.lstrip().upper().startswith("UPDATE")]


def _admin_list(
    path: str,
    ordering: str,
    *,
    count: bool = False,
    query: Callable[[Scene], dict[str, str]] | None = None,
) -> Callable[[Scene], list[Statement]]:
    """The statements of an admin list in its order: its page of rows, or with
    ``count`` its row count (capped, so it walks the same order); ``query`` gives the
    filters to apply."""

    def statements(scene: Scene) -> list[Statement]:
        browser = scene.owner_browser()
        params = query(scene) if query is not None else {}

        def get() -> None:
            response = browser.get(path, params)
            assert response.status_code == 200, (path, params, response.status_code)

        ordered = [sent for sent in sent_by(get) if f"ORDER BY {ordering}" in sent.sql]
        return [sent for sent in ordered if sent.sql.startswith("SELECT COUNT(*)") == count]

    return statements


def _last_week(scene: Scene) -> dict[str, str]:
    """What the date filter's "Past 7 days" writes."""
    today = scene.now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "created_at__gte": (today - timedelta(days=7)).isoformat(sep=" "),
        "created_at__lt": (today + timedelta(days=1)).isoformat(sep=" "),
    }


ADMIN_SESSIONS = "/admin/user_sessions/session/"
ADMIN_LOGINS = "/admin/audit/loginevent/"
ADMIN_AUDIT = "/admin/audit/auditevent/"
BY_SEEN = '"user_sessions_session"."last_seen_at" DESC'
LOGINS_BY_TIME = '"audit_loginevent"."created_at" DESC'
AUDIT_BY_TIME = '"audit_auditevent"."created_at" DESC'


def _purge_sessions(scene: Scene) -> list[Statement]:
    return sent_by(SessionStore.clear_expired, stop_at="DELETE")


def _purge(model: type) -> Callable[[Scene], list[Statement]]:
    def statements(scene: Scene) -> list[Statement]:
        cutoff = scene.now - timedelta(days=30)
        return sent_by(
            lambda: delete_in_batches(model.objects.filter(created_at__lt=cutoff)),
            stop_at="DELETE",
        )

    return statements


SESSIONS = Session._meta.db_table
LOGINS = LoginEvent._meta.db_table
AUDIT = AuditEvent._meta.db_table
# Django's names for the indexes of foreign keys and db_index fields.
SESSION_EXPIRE_DATE = "user_sessions_session_expire_date_48810852"
AUDIT_CREATED_AT = "audit_auditevent_created_at_58e81936"

LIST_QUERIES = (
    ListQuery(
        "a user's live sessions",
        "sessions card, GET /api/auth/sessions",
        SESSIONS,
        ("session_user_live",),
        _live_sessions,
    ),
    ListQuery(
        "a user's sign-ins, newest first",
        "activity card, GET /api/auth/login-events",
        LOGINS,
        ("login_user_time",),
        _sign_ins,
    ),
    ListQuery(
        "a user's sign-ins after a cursor",
        "activity card's Load more, /settings/security/activity/?after=",
        LOGINS,
        ("login_user_time",),
        _sign_ins_after_a_page,
    ),
    ListQuery(
        "a user's sign-ins per day, last 30 days, none cached",
        "sign-in chart on /settings/security/",
        LOGINS,
        ("login_user_time",),
        _chart("user", kept=False),
    ),
    ListQuery(
        "a user's sign-ins today, the days before cached",
        "sign-in chart on /settings/security/",
        LOGINS,
        ("login_user_time",),
        _chart("user", kept=True),
    ),
    ListQuery(
        "the account's sign-ins per day, last 30 days, none cached",
        "sign-in chart on /account/security/",
        LOGINS,
        # When one account owns nearly every row, the time index alone bounds the 30 days.
        ("login_account_time", "login_created_at"),
        _chart("account", kept=False),
    ),
    ListQuery(
        "the account's sign-ins today, the days before cached",
        "sign-in chart on /account/security/",
        LOGINS,
        ("login_account_time", "login_created_at"),
        _chart("account", kept=True),
    ),
    ListQuery(
        "a page of the account's signed-in people",
        "owner page, GET /api/accounts/me/security",
        SESSIONS,
        # The account's live sessions newest first, each probed for a later one of
        # its user's (a small account may start from its users' index instead).
        ("session_account_live", "session_account_recent"),
        _signed_in_people,
    ),
    ListQuery(
        "the account's signed-in people after a cursor",
        "owner page's Show more, GET /api/accounts/me/active-users?after=",
        SESSIONS,
        ("session_account_live", "session_account_recent"),
        _signed_in_people_after_a_page,
    ),
    ListQuery(
        "how many of the account are signed in, up to a cap",
        "owner page, GET /api/accounts/me/security",
        SESSIONS,
        # Walking the live index stops at the cap; when the unexpired sessions are
        # only a few times the cap, reading them all through the expiry index and
        # keeping the newest is as cheap, and the planner may take it.
        ("session_account_live", "session_account_recent", SESSION_EXPIRE_DATE),
        _signed_in_count,
    ),
    ListQuery(
        "the account's live sessions, signed out at once",
        "owner page and API: sign everyone out",
        SESSIONS,
        # Both hold exactly the unrevoked rows; when one account owns nearly every
        # row, either is as good.
        ("session_account_live", "session_revoked_at"),
        _bulk_revoke,
    ),
    ListQuery(
        "admin: the account's sessions",
        ADMIN_SESSIONS,
        SESSIONS,
        ("session_account_recent",),
        _admin_list(ADMIN_SESSIONS, BY_SEEN),
    ),
    ListQuery(
        "admin: the account's sessions, counted up to the cap",
        ADMIN_SESSIONS,
        SESSIONS,
        ("session_account_recent",),
        _admin_list(ADMIN_SESSIONS, BY_SEEN, count=True),
    ),
    ListQuery(
        "admin: the account's live sessions",
        f"{ADMIN_SESSIONS}?status=live",
        SESSIONS,
        ("session_account_recent", "session_account_live"),
        _admin_list(ADMIN_SESSIONS, BY_SEEN, query=lambda scene: {"status": "live"}),
    ),
    ListQuery(
        "admin: the account's sign-in attempts",
        ADMIN_LOGINS,
        LOGINS,
        # When one account owns nearly every row, walking the time index backwards
        # finds a page of it at once.
        ("login_account_time", "login_created_at"),
        _admin_list(ADMIN_LOGINS, LOGINS_BY_TIME),
    ),
    ListQuery(
        "admin: the account's sign-in attempts, counted up to the cap",
        ADMIN_LOGINS,
        LOGINS,
        ("login_account_time", "login_created_at"),
        _admin_list(ADMIN_LOGINS, LOGINS_BY_TIME, count=True),
    ),
    ListQuery(
        "admin: the account's sign-in attempts of the past 7 days",
        f"{ADMIN_LOGINS}?created_at__gte=",
        LOGINS,
        ("login_account_time", "login_created_at"),
        _admin_list(ADMIN_LOGINS, LOGINS_BY_TIME, query=_last_week),
    ),
    ListQuery(
        "admin: the account's audit events",
        ADMIN_AUDIT,
        AUDIT,
        ("audit_account_recent", AUDIT_CREATED_AT),
        _admin_list(ADMIN_AUDIT, AUDIT_BY_TIME),
    ),
    ListQuery(
        "admin: the account's audit events, counted up to the cap",
        ADMIN_AUDIT,
        AUDIT,
        ("audit_account_recent", AUDIT_CREATED_AT),
        _admin_list(ADMIN_AUDIT, AUDIT_BY_TIME, count=True),
    ),
    ListQuery(
        "admin: the account's audit events of one kind",
        f"{ADMIN_AUDIT}?action=session",
        AUDIT,
        ("audit_account_recent", AUDIT_CREATED_AT),
        _admin_list(ADMIN_AUDIT, AUDIT_BY_TIME, query=lambda scene: {"action": "session"}),
    ),
    ListQuery(
        "purge: the next batch of ended sessions",
        "purge_sessions, clearsessions",
        SESSIONS,
        ("user_sessions_session_pkey", "session_revoked_at", SESSION_EXPIRE_DATE),
        _purge_sessions,
    ),
    ListQuery(
        "purge: the next batch of old sign-in attempts",
        "purge_audit",
        LOGINS,
        ("audit_loginevent_pkey", "login_created_at"),
        _purge(LoginEvent),
    ),
    ListQuery(
        "purge: the next batch of old audit events",
        "purge_audit",
        AUDIT,
        ("audit_auditevent_pkey", AUDIT_CREATED_AT),
        _purge(AuditEvent),
    ),
)
