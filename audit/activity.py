"""Reading a user's sign-in history, newest first, a page at a time."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

from accounts.models import User
from audit.models import LoginEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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


def sign_ins_of(user: User, *, limit: int, after: Cursor | None = None) -> Page:
    """``user``'s sign-in attempts, newest first: ``limit`` of them, older than ``after``."""
    events = LoginEvent.objects.filter(user=user)
    if after is not None:
        # The redundant bound lets the database seek the (user, created_at, id) index
        # to the cursor; the OR alone would make it read every newer row first.
        events = events.filter(created_at__lte=after.created_at).filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id)
        )
    rows = list(events.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(
        events=rows,
        next=Cursor(created_at=last.created_at, id=last.id) if last is not None else None,
    )
