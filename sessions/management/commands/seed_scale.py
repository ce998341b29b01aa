"""Fill a scratch PostgreSQL database with one large account, to see how the portal's
lists behave at a million rows (``make scale-report``)."""

import heapq
import json
import random
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, User
from accounts.policy import effective_policy
from accounts.roles import owner_group
from audit.models import AuditEvent, LoginEvent
from securityportal.client import describe_device
from sessions.models import RefreshToken, RevokedReason, Session

# How the seeded sessions split, as a real account's look a month after launch with a
# nightly purge that has fallen behind: a fifth signed in, the rest ended, by a
# revoke or by lapsing unnoticed, some of them past the retention period.
LIVE_SHARE = 0.20
LAPSED_SHARE = 0.30
API_SHARE = 0.25
FAILED_SIGN_IN_SHARE = 0.15
UNKNOWN_NAME_SHARE = 0.10
NEW_DEVICE_SHARE = 0.05
ENDED_SPAN = timedelta(days=60)
# The second account is this much smaller than the first, so lists of one tenant are
# read next to another tenant's rows, as in production.
SMALL_ACCOUNT_DIVISOR = 500

USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
)
API_USER_AGENTS = ("python-requests/2.32.3", "curl/8.5.0", "okhttp/4.12.0")
REVOKE_REASONS = (
    (RevokedReason.LOGOUT, 50),
    (RevokedReason.USER, 15),
    (RevokedReason.EXPIRED_IDLE, 15),
    (RevokedReason.EXPIRED_ABSOLUTE, 7),
    (RevokedReason.PASSWORD_CHANGE, 5),
    (RevokedReason.OWNER_BULK, 5),
    (RevokedReason.ADMIN, 2),
    (RevokedReason.REFRESH_REUSE, 1),
)
FAILURES = (
    (LoginEvent.FailureReason.BAD_CREDENTIALS, 80),
    (LoginEvent.FailureReason.LOCKED_OUT, 10),
    (LoginEvent.FailureReason.RATE_LIMITED, 7),
    (LoginEvent.FailureReason.INACTIVE, 3),
)
AUDIT_ACTIONS = (
    ("session.revoked", 60),
    ("login.new_device", 15),
    ("password.changed", 10),
    ("refresh_token.reuse_detected", 2),
    ("account.sessions_revoked_bulk", 1),
    ("account.session_policy_update", 1),
)

SESSION_COLUMNS = (
    "id",
    "key_hash",
    "session_data",
    "user_id",
    "account_id",
    "kind",
    "ip",
    "user_agent",
    "device",
    "created_at",
    "last_seen_at",
    "idle_timeout",
    "expire_date",
    "revoked_at",
    "revoked_reason",
)
AUDIT_EVENT_COLUMNS = (
    "actor_id",
    "user_id",
    "account_id",
    "action",
    "target",
    "details",
    "ip",
    "created_at",
)
# Where each column sits in a session row.
AT = {name: position for position, name in enumerate(SESSION_COLUMNS)}
LOGIN_EVENT_COLUMNS = (
    "user_id",
    "account_id",
    "username",
    "channel",
    "success",
    "failure_reason",
    "new_device",
    "device_key",
    "session_id",
    "ip",
    "user_agent",
    "device",
    "created_at",
)


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in choices], [weight for _, weight in choices])[0]


def _copy(table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
    """COPY ``rows`` into ``table``; how many. One round trip per buffer, not per row."""
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@dataclass
class Member:
    id: int
    username: str
    ips: tuple[str, str]


@dataclass
class Tenant:
    """One seeded account and what was made for it."""

    account: Account
    members: list[Member] = field(default_factory=list)
    sessions: list[tuple] = field(default_factory=list)
    live: int = 0


class Seeder:
    """Makes the rows of one run: reproducible from its seed, dated back from ``now``."""

    def __init__(self, *, seed: int, days: int, now: datetime) -> None:
        # Made-up rows, reproducible from --seed; the keys and tokens come from secrets.
        self.rng = random.Random(seed)  # noqa: S311
        self.days = days
        self.now = now
        agents = USER_AGENTS + API_USER_AGENTS
        self.devices = {agent: describe_device(agent)[: Session.DEVICE_MAX] for agent in agents}
        self.agent_numbers = {agent: number for number, agent in enumerate(agents)}

    # Users

    def users(
        self, account: Account, count: int, password_hash: str, last_logins: list
    ) -> list[Member]:
        """``count`` users of ``account``, one owner per thousand, all sharing
        ``password_hash``; their ids in username order."""
        prefix = f"{account.name.lower().replace(' ', '-')}"
        joined = self.now - timedelta(days=self.days)

        def rows() -> Iterator[tuple]:
            for number in range(count):
                owner = number % 1000 == 0
                username = f"{prefix}-{number:05d}"
                yield (
                    password_hash,
                    last_logins[number],
                    False,
                    username,
                    "",
                    "",
                    f"{username}@scale.example",
                    owner,
                    True,
                    joined,
                    account.pk,
                    User.Role.OWNER if owner else User.Role.MEMBER,
                )

        _copy(
            User._meta.db_table,
            (
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "account_id",
                "role",
            ),
            rows(),
        )
        # Owners are staff through their role; the group gives them the admin's
        # permissions, as User.save would have.
        members = list(
            User.objects.filter(account=account).order_by("username").values_list("id", "username")
        )
        owner_group().user_set.add(*(user_id for user_id, _ in members[::1000]))
        return [
            Member(id=user_id, username=username, ips=(self._ip(), self._ip()))
            for user_id, username in members
        ]

    def _ip(self) -> str:
        rng = self.rng
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    # Sessions

    def plan_sessions(self, tenant: Tenant, count: int, user_count: int) -> list[datetime | None]:
        """Pick each session's owner, kind, state and times; the last sign-in of
        every user (index order) follows from them."""
        rng, now = self.rng, self.now
        policy = effective_policy(tenant.account)
        idle, lifetime = policy.idle_timeout, policy.absolute_lifetime
        last_logins: list[datetime | None] = [None] * user_count
        for _ in range(count):
            user = rng.randrange(user_count)
            api = rng.random() < API_SHARE
            user_agent = rng.choice(API_USER_AGENTS if api else USER_AGENTS)
            state = rng.random()
            revoked_at, reason = None, ""
            if state < LIVE_SHARE:
                # Seen within the last half of the idle limit: still live after a
                # report that runs for several minutes.
                created = now - rng.random() * min(lifetime * 0.9, timedelta(days=5))
                last_seen = max(created, now - rng.random() * idle / 2)
                tenant.live += 1
            else:
                created = now - timedelta(minutes=10) - rng.random() * ENDED_SPAN
                used_for = rng.random() * min(lifetime, now - created - idle)
                last_seen = created + max(used_for, timedelta())
                if state >= LIVE_SHARE + LAPSED_SHARE:
                    reason = _weighted(rng, REVOKE_REASONS)
                    if reason == RevokedReason.REFRESH_REUSE and not api:
                        reason = RevokedReason.LOGOUT
                    revoked_at = min(now, last_seen + rng.random() * idle)
            if last_logins[user] is None or created > last_logins[user]:
                last_logins[user] = created
            tenant.sessions.append(
                (
                    uuid.uuid4(),
                    None if api else secrets.token_hex(32),
                    "",
                    user,
                    tenant.account.pk,
                    Session.Kind.API if api else Session.Kind.BROWSER,
                    None,
                    user_agent,
                    self.devices[user_agent],
                    created,
                    last_seen,
                    idle,
                    created + lifetime,
                    revoked_at,
                    reason,
                )
            )
        return last_logins

    def write_sessions(self, tenant: Tenant) -> tuple[int, int]:
        """COPY the planned sessions, with their owners' ids and addresses; one current
        refresh token per API session. How many sessions and tokens."""
        rows = []
        for planned in tenant.sessions:
            row = list(planned)
            member = tenant.members[row[AT["user_id"]]]
            row[AT["user_id"]], row[AT["ip"]] = member.id, self.rng.choice(member.ips)
            rows.append(tuple(row))
        tenant.sessions = rows
        sessions = _copy(Session._meta.db_table, SESSION_COLUMNS, rows)
        tokens = _copy(
            RefreshToken._meta.db_table,
            ("session_id", "token_hash", "issued_at", "rotated_at"),
            (
                (row[AT["id"]], secrets.token_hex(32), row[AT["last_seen_at"]], None)
                for row in rows
                if row[AT["kind"]] == Session.Kind.API
            ),
        )
        return sessions, tokens

    # Sign-in attempts

    def login_events(self, tenant: Tenant, count: int) -> int:
        """``count`` sign-in attempts, oldest first so ids grow with time as they do
        in production: one success per seeded session, the rest spread over ``days``."""
        by_id = {member.id: member for member in tenant.members}
        sessions = sorted(
            (
                (row[AT["created_at"]], self._login_row(tenant, by_id[row[AT["user_id"]]], row))
                for row in tenant.sessions
            ),
            key=lambda pair: pair[0],
        )
        # Fewer attempts than sessions asked for: the newest sessions keep theirs.
        sessions = sessions[max(0, len(sessions) - count) :]
        others = self._spread(tenant, max(0, count - len(sessions)))
        merged = heapq.merge(sessions, others, key=lambda pair: pair[0])
        return _copy(LoginEvent._meta.db_table, LOGIN_EVENT_COLUMNS, (row for _, row in merged))

    def _spread(self, tenant: Tenant, count: int) -> Iterator[tuple[datetime, tuple]]:
        rng, members = self.rng, tenant.members
        start = self.now - timedelta(days=self.days)
        step = timedelta(days=self.days) / max(count, 1)
        for number in range(count):
            created = start + step * (number + rng.random())
            yield created, self._login_row(tenant, rng.choice(members), created=created)

    def _login_row(
        self,
        tenant: Tenant,
        member: Member,
        session: tuple | None = None,
        *,
        created: datetime | None = None,
    ) -> tuple:
        """A sign-in attempt of ``member``: the successful one that opened ``session``,
        or one at ``created``, failed now and then."""
        rng = self.rng
        if session is not None:
            channel, user_agent = session[AT["kind"]], session[AT["user_agent"]]
            ip, created = session[AT["ip"]], session[AT["created_at"]]
            success, reason = True, ""
        else:
            api = rng.random() < API_SHARE
            channel = Session.Kind.API if api else Session.Kind.BROWSER
            user_agent = rng.choice(API_USER_AGENTS if api else USER_AGENTS)
            ip = rng.choice(member.ips)
            success = rng.random() >= FAILED_SIGN_IN_SHARE
            reason = "" if success else _weighted(rng, FAILURES)
        user_id, account_id, username = member.id, tenant.account.pk, member.username
        if not success and rng.random() < UNKNOWN_NAME_SHARE:
            # A guess at a name nobody has: no user, no account.
            user_id, account_id, username = None, None, f"{member.username}x"
        # Stands in for the keyed hash: the same user on the same browser gives the same key.
        device_key = f"{member.id:032x}{self.agent_numbers[user_agent]:032x}" if success else ""
        return (
            user_id,
            account_id,
            username,
            channel,
            success,
            reason,
            success and rng.random() < NEW_DEVICE_SHARE,
            device_key,
            session[AT["id"]] if session is not None else None,
            ip,
            user_agent,
            self.devices[user_agent],
            created,
        )

    # Audit trail

    def audit_events(self, tenant: Tenant, count: int) -> int:
        rng, members = self.rng, tenant.members
        start = self.now - timedelta(days=self.days)
        step = timedelta(days=self.days) / max(count, 1)

        def rows() -> Iterator[tuple]:
            for number in range(count):
                action = _weighted(rng, AUDIT_ACTIONS)
                user, actor = rng.choice(members), rng.choice(members)
                if action.startswith("account."):
                    details: dict[str, Any] = {"scope": "others", "count": rng.randrange(500)}
                    target, user_id = f"account:{tenant.account.pk}", None
                elif action == "session.revoked":
                    details = {"reason": "user", "kind": "browser", "device": "Chrome 131"}
                    target, user_id = f"session:{uuid.uuid4()}", user.id
                else:
                    details, target, user_id = {}, f"user:{user.id}", user.id
                yield (
                    actor.id,
                    user_id,
                    tenant.account.pk,
                    action,
                    target,
                    json.dumps(details),
                    rng.choice(actor.ips),
                    start + step * (number + rng.random()),
                )

        return _copy(
            AuditEvent._meta.db_table,
            (
                "actor_id",
                "user_id",
                "account_id",
                "action",
                "target",
                "details",
                "ip",
                "created_at",
            ),
            rows(),
        )


class Command(BaseCommand):
    help = (
        "Load a large account into a scratch PostgreSQL database: users, sessions (live, "
        "revoked and lapsed), sign-in attempts and audit events, by COPY. Refuses a "
        "database that already holds users unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=10_000, help="Users (default 10000).")
        parser.add_argument(
            "--sessions", type=int, default=100_000, help="Sessions (default 100000)."
        )
        parser.add_argument(
            "--events", type=int, default=1_000_000, help="Sign-in attempts (default 1000000)."
        )
        parser.add_argument(
            "--audit-events", type=int, default=100_000, help="Audit events (default 100000)."
        )
        parser.add_argument(
            "--days", type=int, default=365, help="History spread over this many days."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--password",
            default="",
            help="The password every seeded user shares (default: a random one, printed).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though the database already holds users.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale loads rows with PostgreSQL's COPY and measures PostgreSQL's plans: "
                "point DATABASE_URL at a scratch PostgreSQL database, e.g. "
                "postgres://postgres@127.0.0.1:5432/sp_scale."
            )
        sizes = {name: options[name] for name in ("users", "sessions", "events", "audit_events")}
        if options["users"] < 1 or min(sizes.values()) < 0 or options["days"] < 1:
            raise CommandError(
                "--users and --days must be at least 1, the other sizes at least 0."
            )
        if User.objects.exists() and not options["force"]:
            raise CommandError(
                "This database already holds users; seed_scale is for a scratch database. "
                "Create one (createdb sp_scale) or, to add the rows anyway, pass --force."
            )
        password = options["password"] or secrets.token_urlsafe(12)
        started = time.perf_counter()
        # One hash for everyone: hashing ten thousand passwords at full cost would
        # take longer than everything else put together.
        password_hash = make_password(password)
        tag = secrets.token_hex(2)
        seeder = Seeder(seed=options["seed"], days=options["days"], now=timezone.now())
        timings: dict[str, float] = {}
        with transaction.atomic():
            big = self._tenant(seeder, f"Scale {tag}", sizes, password_hash, timings)
            small_sizes = {
                name: max(1 if name == "users" else 0, size // SMALL_ACCOUNT_DIVISOR)
                for name, size in sizes.items()
            }
            small = self._tenant(
                seeder, f"Scale {tag} neighbour", small_sizes, password_hash, timings
            )
        step = time.perf_counter()
        self._analyze()
        timings["analyze"] = time.perf_counter() - step
        elapsed = time.perf_counter() - started
        for tenant, sized in ((big, sizes), (small, small_sizes)):
            self.stdout.write(
                f"{tenant.account.name} (id {tenant.account.pk}): {sized['users']} users, "
                f"{sized['sessions']} sessions ({tenant.live} live), {sized['events']} sign-in "
                f"attempts, {sized['audit_events']} audit events; owner "
                f"{tenant.members[0].username}."
            )
        spent = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
        self.stdout.write(f"Every seeded user's password: {password}")
        self.stdout.write(f"Done in {elapsed:.1f}s ({spent}).")

    def _tenant(
        self,
        seeder: Seeder,
        name: str,
        sizes: dict[str, int],
        password_hash: str,
        timings: dict[str, float],
    ) -> Tenant:
        def timed(label: str, work: Any) -> Any:
            step = time.perf_counter()
            result = work()
            timings[label] = timings.get(label, 0.0) + time.perf_counter() - step
            return result

        tenant = Tenant(account=Account.objects.create(name=name))
        last_logins = seeder.plan_sessions(tenant, sizes["sessions"], sizes["users"])
        tenant.members = timed(
            "users",
            lambda: seeder.users(tenant.account, sizes["users"], password_hash, last_logins),
        )
        timed("sessions", lambda: seeder.write_sessions(tenant))
        timed("sign-in attempts", lambda: seeder.login_events(tenant, sizes["events"]))
        timed("audit events", lambda: seeder.audit_events(tenant, sizes["audit_events"]))
        return tenant

    def _analyze(self) -> None:
        """Fresh statistics, so the planner plans for the rows just loaded. Outside a
        transaction VACUUM runs too: it sets the visibility map, as autovacuum would
        have on a database that grew to this size, so index-only scans are possible."""
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        tables = (User, Session, RefreshToken, LoginEvent, AuditEvent)
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"{verb} {model._meta.db_table}")
