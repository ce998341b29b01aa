"""Who is signed in to an account, for its owners: a page at a time, most recently
active first, and how many, counted only up to a cap.

An account may hold 100,000 live sessions. Each function here reads a bounded number
of index entries however many there are: the page walks the account's live sessions
newest first and stops once it has a page of people; the count stops at
``COUNT_CAP`` sessions."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import models

from accounts.models import Account, User
from sessions.lifecycle import live_sessions_of_account

PAGE_SIZE = 50
# How many live sessions the count reads at most. Past it the numbers are lower
# bounds ("more than 1,000 sessions"), which is all a person can take in anyway.
COUNT_CAP = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class PeopleCursor:
    """Where the next page starts: just after (less recently active than) the person
    whose latest live session is this one."""

    last_seen_at: datetime
    session_id: uuid.UUID

    def __str__(self) -> str:
        return f"{(self.last_seen_at - _EPOCH) // _MICROSECOND}-{self.session_id.hex}"

    @classmethod
    def parse(cls, text: str) -> "PeopleCursor":
        """The cursor ``str()`` wrote, or ValueError."""
        micros, _, session_hex = text.partition("-")
        # Only what str() writes: ASCII digits, a dash, 32 hex digits.
        if not (
            text.isascii() and micros.isdigit() and len(micros) <= 20 and len(session_hex) == 32
        ):
            raise ValueError("not a cursor")
        try:
            return cls(
                last_seen_at=_EPOCH + int(micros) * _MICROSECOND,
                session_id=uuid.UUID(hex=session_hex),
            )
        except (OverflowError, ValueError):
            raise ValueError("not a cursor") from None


@dataclass(frozen=True)
class PeoplePage:
    """One page of signed-in people. Each user carries ``live_sessions`` (how many)
    and ``last_active_at`` (the latest activity of any of their live sessions)."""

    users: list[User]
    next: PeopleCursor | None


@dataclass(frozen=True)
class SignedInCount:
    """How many people and sessions are signed in. When ``exact`` is false the
    account has more than ``COUNT_CAP`` live sessions, ``sessions`` is the cap and
    ``people`` the people among the most recently active ``COUNT_CAP`` + 1 of them:
    both are lower bounds."""

    people: int
    sessions: int
    exact: bool

    def sessions_phrase(self, *, excluding: int = 0) -> str:
        """The count for copy: "1 session", "12 sessions", and past the cap
        "1,000 or more sessions" (true with or without ``excluding`` sessions)."""
        if not self.exact:
            return f"{self.sessions:,} or more sessions"
        count = self.sessions - excluding
        return f"{count:,} session{'' if count == 1 else 's'}"


def signed_in_people(
    account: Account, now: datetime, *, limit: int = PAGE_SIZE, after: PeopleCursor | None = None
) -> PeoplePage:
    """The users of ``account`` with a live session, most recently active first:
    ``limit`` of them, less recently active than ``after``. Two statements,
    however many people and sessions the account has."""
    # A person's place in the list is their latest live session; walking the
    # account's live sessions newest first and keeping only each person's latest
    # finds a page of people in about as many index entries as the page has rows.
    later_of_same_user = live_sessions_of_account(account, now).filter(
        models.Q(last_seen_at__gt=models.OuterRef("last_seen_at"))
        | models.Q(last_seen_at=models.OuterRef("last_seen_at"), id__gt=models.OuterRef("id")),
        user=models.OuterRef("user"),
    )
    latest = live_sessions_of_account(account, now).filter(~models.Exists(later_of_same_user))
    if after is not None:
        # The redundant bound lets the database seek the index to the cursor.
        latest = latest.filter(last_seen_at__lte=after.last_seen_at).filter(
            models.Q(last_seen_at__lt=after.last_seen_at)
            | models.Q(last_seen_at=after.last_seen_at, id__lt=after.session_id)
        )
    rows = list(
        latest.order_by("-last_seen_at", "-id").values_list("user_id", "last_seen_at", "id")[
            : limit + 1
        ]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    users = _with_live_sessions(account, now, [user_id for user_id, _, _ in rows])
    page = []
    for user_id, last_seen_at, _ in rows:
        user = users.get(user_id)
        if user is not None:  # deleted between the two reads
            user.last_active_at = last_seen_at
            page.append(user)
    cursor = None
    if more:
        _, last_seen_at, session_id = rows[-1]
        cursor = PeopleCursor(last_seen_at=last_seen_at, session_id=session_id)
    return PeoplePage(users=page, next=cursor)


def _with_live_sessions(account: Account, now: datetime, user_ids: list[int]) -> dict[int, User]:
    """The users ``user_ids`` of ``account``, each with ``live_sessions``."""
    live_count = (
        live_sessions_of_account(account, now)
        .filter(user=models.OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(count=models.Count("pk"))
        .values("count")
    )
    users = User.objects.filter(account=account, pk__in=user_ids).annotate(
        live_sessions=models.Subquery(live_count, output_field=models.IntegerField())
    )
    return {user.pk: user for user in users}


def count_signed_in(account: Account, now: datetime) -> SignedInCount:
    """How many people and sessions of ``account`` are signed in, reading at most
    ``COUNT_CAP`` + 1 live sessions (the most recently active)."""
    # The ORDER BY walks the account's live-session index, so the read stops at the
    # cap wherever in the table the live rows lie.
    user_ids = list(
        live_sessions_of_account(account, now)
        .order_by("-last_seen_at")
        .values_list("user_id", flat=True)[: COUNT_CAP + 1]
    )
    exact = len(user_ids) <= COUNT_CAP
    return SignedInCount(
        people=len(set(user_ids)), sessions=min(len(user_ids), COUNT_CAP), exact=exact
    )
