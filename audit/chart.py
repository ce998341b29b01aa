"""Sign-ins per day: the activity chart on the security page (a user's own) and on the
owner page (the account's), drawn on the server as SVG."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.models import Account, User
from audit.models import LoginEvent

DAYS = 30

# The drawing, in the SVG's own units: the page scales the whole picture to its width.
WIDTH = 400
HEIGHT = 160
LEFT = 32  # room for the count labels
RIGHT = 4
TOP = 8
BOTTOM = 20  # room for the date labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BAR_SHARE = 0.7  # of each day's slot; the rest is the gap between days


@dataclass(frozen=True)
class Day:
    """One UTC day's sign-in attempts."""

    date: date
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


@dataclass(frozen=True)
class Bar:
    """One day drawn: failures stacked on successes, in the SVG's units."""

    day: Day
    x: float
    width: float
    succeeded_y: float
    succeeded_height: float
    failed_y: float
    failed_height: float


@dataclass(frozen=True)
class Tick:
    """A label on an axis, at ``position`` in the SVG's units."""

    label: str
    position: float


@dataclass(frozen=True)
class SignInChart:
    days: list[Day]

    width = WIDTH
    height = HEIGHT
    left = LEFT
    baseline = TOP + PLOT_HEIGHT
    right_edge = WIDTH - RIGHT

    @property
    def succeeded(self) -> int:
        return sum(day.succeeded for day in self.days)

    @property
    def failed(self) -> int:
        return sum(day.failed for day in self.days)

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def first_day(self) -> date:
        return self.days[0].date

    @property
    def last_day(self) -> date:
        return self.days[-1].date

    @property
    def busiest(self) -> Day | None:
        """The day with the most attempts (the latest of equals), or None if none had any."""
        busiest = max(reversed(self.days), key=lambda day: day.total, default=None)
        return busiest if busiest is not None and busiest.total else None

    @property
    def scale_top(self) -> int:
        """The count at the top of the plot: the busiest day's, rounded up to an even
        number so the halfway label is a whole number too."""
        most = max((day.total for day in self.days), default=0)
        return max(2, most + most % 2)

    @property
    def bars(self) -> list[Bar]:
        slot = PLOT_WIDTH / len(self.days)
        per_count = PLOT_HEIGHT / self.scale_top
        bars = []
        for index, day in enumerate(self.days):
            succeeded_height = day.succeeded * per_count
            failed_height = day.failed * per_count
            succeeded_y = self.baseline - succeeded_height
            bars.append(
                Bar(
                    day=day,
                    x=round(LEFT + index * slot + slot * (1 - BAR_SHARE) / 2, 2),
                    width=round(slot * BAR_SHARE, 2),
                    succeeded_y=round(succeeded_y, 2),
                    succeeded_height=round(succeeded_height, 2),
                    failed_y=round(succeeded_y - failed_height, 2),
                    failed_height=round(failed_height, 2),
                )
            )
        return bars

    @property
    def count_ticks(self) -> list[Tick]:
        """0, half and the top of the scale, up the left-hand side."""
        top = self.scale_top
        return [
            Tick(label=str(count), position=round(self.baseline - count * PLOT_HEIGHT / top, 2))
            for count in (0, top // 2, top)
        ]

    @property
    def date_ticks(self) -> list[Tick]:
        """The first, middle and last day, under their bars."""
        bars = self.bars
        return [
            Tick(
                label=f"{bar.day.date.day} {bar.day.date:%b}",
                position=round(bar.x + bar.width / 2, 2),
            )
            for bar in (bars[0], bars[len(bars) // 2], bars[-1])
        ]


def daily_sign_ins(
    *, user: User | None = None, account: Account | None = None, now: datetime, days: int = DAYS
) -> SignInChart:
    """Successful and failed sign-in attempts per UTC day over the ``days`` days up to and
    including ``now``'s, of ``user`` or of everyone in ``account`` (exactly one of them).

    One aggregate query whatever the number of events, bounded by the (user or account,
    created_at) index; days without attempts are filled in with zeros here."""
    if (user is None) == (account is None):
        raise TypeError("daily_sign_ins needs a user or an account, not both")
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    owner = Q(user=user) if user is not None else Q(account=account)
    rows = (
        LoginEvent.objects.filter(owner, created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            succeeded=Count("id", filter=Q(success=True)),
            failed=Count("id", filter=Q(success=False)),
        )
        .order_by("day")
    )
    counted = {row["day"]: (row["succeeded"], row["failed"]) for row in rows}
    return SignInChart(
        days=[
            Day(
                first + timedelta(days=offset),
                *counted.get(first + timedelta(days=offset), (0, 0)),
            )
            for offset in range(days)
        ]
    )
