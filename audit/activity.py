"""Reading a user's sign-in history, newest first, a page at a time."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db.models import Q, QuerySet

from accounts.models import User
from audit.models import LoginEvent
from securityportal.compiled import SENTINEL_ID, SENTINEL_TIME, CompiledQuery

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LARGEST_ID = 2**63 - 1  # of a bigint, LoginEvent's id


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after (older than) this event.

    Keyset pagination: the next page is found through the (user, created_at, id)
    index however deep the history goes, where OFFSET would read every row it
    skips."""

    created_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """The cursor ``str()`` wrote, or ValueError."""
        micros, _, event_id = text.partition("-")
        # isdigit() alone also passes superscripts and the digits of other scripts
        # (full-width, Arabic-Indic), which str() never writes: only ASCII makes a cursor.
        if not (text.isascii() and micros.isdigit() and event_id.isdigit()) or len(text) > 40:
            raise ValueError("not a cursor")
        try:
            created_at = _EPOCH + int(micros) * _MICROSECOND
        except OverflowError:
            raise ValueError("not a cursor") from None
        return cls(created_at=created_at, id=int(event_id))


@dataclass(frozen=True)
class Page:
    events: list[LoginEvent]
    next: Cursor | None


def _newest(events: QuerySet, limit: int) -> QuerySet:
    # One more than a page: whether it came back says whether there is a next page.
    return events.order_by("-created_at", "-id")[: limit + 1]


# Compiled once per page size and kind, as the LIMIT is part of the SQL: the page's
# size and the last few the API was asked for (an API client that varies its limit
# costs a compile, never a wrong row). The first page is on every view of the
# security page.
@lru_cache(maxsize=8)
def _page_query(limit: int, *, after_cursor: bool) -> CompiledQuery:
    if not after_cursor:
        return CompiledQuery(
            LoginEvent,
            lambda user_id: _newest(LoginEvent.objects.filter(user_id=user_id), limit),
            user_id=("user", SENTINEL_ID),
        )

    def build(user_id: int, created_at: datetime, event_id: int) -> QuerySet:
        # The redundant bound lets the database seek the (user, created_at, id) index
        # to the cursor; the OR alone would make it read every newer row first.
        events = LoginEvent.objects.filter(user_id=user_id, created_at__lte=created_at).filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=event_id)
        )
        return _newest(events, limit)

    return CompiledQuery(
        LoginEvent,
        build,
        user_id=("user", SENTINEL_ID),
        created_at=("created_at", SENTINEL_TIME),
        event_id=("id", SENTINEL_ID - 1),
    )


def sign_ins_of(user: User, *, limit: int, after: Cursor | None = None) -> Page:
    """``user``'s sign-in attempts, newest first: ``limit`` of them, older than ``after``."""
    if after is None:
        rows = _page_query(limit, after_cursor=False).rows(user_id=user.pk)
    else:
        # A cursor's id can be past the column's range (cursors come from the query
        # string). Django's own lookup would read that as "every id"; the compiled
        # statement is given the largest id the column holds instead, which no
        # sign-in's id exceeds.
        rows = _page_query(limit, after_cursor=True).rows(
            user_id=user.pk, created_at=after.created_at, event_id=min(after.id, _LARGEST_ID)
        )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(
        events=rows,
        next=Cursor(created_at=last.created_at, id=last.id) if last is not None else None,
    )
