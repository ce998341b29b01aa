"""Sign-ins per day: the activity chart on the security page (a user's own) and on the
owner page (the account's), drawn on the server as SVG."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from accounts.models import Account, User
from audit.models import LoginEvent
from securityportal import cache_backoff
from securityportal.cache_backoff import CACHE_ERRORS
from securityportal.compiled import SENTINEL_ID, SENTINEL_TIME, CompiledQuery

logger = logging.getLogger(__name__)

DAYS = 30
# The settled days' counts live in a cache alias of its own. Without Redis it is a
# process-memory cache apart from the default one, so that a chart per user and per
# account never evicts a sign-in lockout counter (which would lift a lockout early).
# With Redis it is the same server as the counters, which never evicts (noeviction)
# but refuses every write once full: hence the short lifetime below.
CACHE_ALIAS = "charts"
CACHE_PREFIX = "sign-in-chart"
# Every entry carries the generation it was written under; forget_settled_days
# replaces the generation, and an entry of another one is counted afresh.
GENERATION_KEY = f"{CACHE_PREFIX}:generation"
# A day is settled, and its counts kept, this long after it ended: an attempt stamped
# just before midnight whose transaction commits just after, or stamped by a server
# whose clock runs a little behind, still lands in a day read from the table.
SETTLED_AFTER = timedelta(minutes=5)
# How long a chart's kept counts outlive its last view that wrote them. A chart looked
# at daily rewrites its entry at the first view after each midnight, so it keeps its
# hits; one looked at less often is counted in full once, as on its first view. The
# window's 31 days would keep an entry for every user who ever looked, and fill the
# Redis that the lockout counters need (DEPLOY.md, "Redis memory").
KEPT_FOR = timedelta(days=2)

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


def _svg_number(value: float) -> str:
    """``value`` as an SVG attribute takes it: two decimals at most and a decimal
    point whatever the language (a localized comma would read as a separator)."""
    return str(round(value, 2))


@dataclass(frozen=True)
class Bar:
    """One day drawn: failures stacked on successes, in the SVG's units, written out."""

    day: Day
    x: str
    width: str
    succeeded_y: str
    succeeded_height: str
    failed_y: str
    failed_height: str


@dataclass(frozen=True)
class Tick:
    """A label on an axis, at ``position`` in the SVG's units, written out."""

    label: str
    position: str


@dataclass(frozen=True)
class SignInChart:
    """The days drawn, oldest first. Hashable: equal charts draw the same card, which
    ``{% sign_in_chart %}`` draws once (audit/templatetags/sign_in_chart.py)."""

    days: tuple[Day, ...]

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

    @cached_property
    def bars(self) -> list[Bar]:
        """Worked out once per chart: the drawing and ``date_ticks`` both read them."""
        slot = PLOT_WIDTH / len(self.days)
        per_count = PLOT_HEIGHT / self.scale_top
        width = _svg_number(slot * BAR_SHARE)
        bars = []
        for index, day in enumerate(self.days):
            succeeded_height = day.succeeded * per_count
            failed_height = day.failed * per_count
            succeeded_y = self.baseline - succeeded_height
            bars.append(
                Bar(
                    day=day,
                    x=_svg_number(LEFT + index * slot + slot * (1 - BAR_SHARE) / 2),
                    width=width,
                    succeeded_y=_svg_number(succeeded_y),
                    succeeded_height=_svg_number(succeeded_height),
                    failed_y=_svg_number(succeeded_y - failed_height),
                    failed_height=_svg_number(failed_height),
                )
            )
        return bars

    @property
    def count_ticks(self) -> list[Tick]:
        """0, half and the top of the scale, up the left-hand side."""
        top = self.scale_top
        return [
            Tick(label=str(count), position=_svg_number(self.baseline - count * PLOT_HEIGHT / top))
            for count in (0, top // 2, top)
        ]

    @property
    def date_ticks(self) -> list[Tick]:
        """The first, middle and last day, under the middle of their bars (a bar is
        centred in its day's slot)."""
        slot = PLOT_WIDTH / len(self.days)
        last = len(self.days) - 1
        return [
            Tick(
                label=f"{self.days[index].date.day} {self.days[index].date:%b}",
                position=_svg_number(LEFT + index * slot + slot / 2),
            )
            for index in (0, (last + 1) // 2, last)
        ]


def daily_sign_ins(
    *, user: User | None = None, account: Account | None = None, now: datetime, days: int = DAYS
) -> SignInChart:
    """Successful and failed sign-in attempts per UTC day over the ``days`` days up to and
    including ``now``'s, of ``user`` or of everyone in ``account`` (exactly one of them).

    A day that has ended never changes (attempts are stamped with the moment they
    happen), so the counts of the settled days are kept in the "charts" cache and only
    the others are counted: one aggregate query, bounded by the (user or account,
    created_at) index, over today alone when the cache holds the rest and over the
    whole window when it holds nothing. Days without attempts are zeros."""
    if (user is None) == (account is None):
        raise TypeError("daily_sign_ins needs a user or an account, not both")
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    every_day = [first + timedelta(days=offset) for offset in range(days)]
    settled = [day for day in every_day if day < (now - SETTLED_AFTER).astimezone(UTC).date()]
    owner, owner_id, key = (
        ("user", user.pk, f"{CACHE_PREFIX}:user:{user.pk}")
        if user is not None
        else ("account", account.pk, f"{CACHE_PREFIX}:account:{account.pk}")
    )
    generation, remembered = _remembered(key, settled)
    since = min(day for day in every_day if day not in remembered)
    counts = {**remembered, **_count_per_day(owner, owner_id, since=since, through=today)}
    if generation is not None and any(day >= since for day in settled):
        _remember(key, generation, {day: counts.get(day, (0, 0)) for day in settled})
    return SignInChart(days=tuple(Day(day, *counts.get(day, (0, 0))) for day in every_day))


def forget_settled_days() -> None:
    """Count every chart's days afresh from now on: for when attempts were deleted
    (purge_audit), which is the only way a settled day's count can change, or written
    into a day that has ended (scripts, tests). Raises CACHE_ERRORS when the cache
    cannot be reached: the charts then still show the kept counts."""
    if CACHE_ALIAS in settings.CACHES:
        caches[CACHE_ALIAS].set(GENERATION_KEY, secrets.token_hex(8), timeout=None)


def _per_day(owner: str) -> CompiledQuery:
    """The per-day count of sign-ins by ``owner`` ("user" or "account"), compiled once:
    one aggregate over the (owner, created_at) index, run by ``_count_per_day``."""

    def build(owner_id: int, since: datetime, until: datetime) -> QuerySet:
        return (
            LoginEvent.objects.filter(
                **{owner: owner_id}, created_at__gte=since, created_at__lt=until
            )
            .annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("day")
            .annotate(
                succeeded=Count("id", filter=Q(success=True)),
                failed=Count("id", filter=Q(success=False)),
            )
            .order_by("day")
        )

    return CompiledQuery(
        LoginEvent,
        build,
        owner_id=(owner, SENTINEL_ID),
        since=("created_at", SENTINEL_TIME),
        until=("created_at", SENTINEL_TIME + timedelta(microseconds=1)),
    )


# Every view of a chart runs one: the security page's and the owner page's.
_PER_DAY = {"user": _per_day("user"), "account": _per_day("account")}


def _count_per_day(
    owner: str, owner_id: int, *, since: date, through: date
) -> dict[date, tuple[int, int]]:
    """(succeeded, failed) of the user or account ``owner_id`` per UTC day, for the days
    from ``since`` through ``through``, both whole; days without attempts are left out."""
    rows = _PER_DAY[owner].rows(
        owner_id=owner_id,
        since=datetime.combine(since, time.min, tzinfo=UTC),
        until=datetime.combine(through + timedelta(days=1), time.min, tzinfo=UTC),
    )
    return {row["day"]: (row["succeeded"], row["failed"]) for row in rows}


def _remembered(key: str, settled: list[date]) -> tuple[str | None, dict[date, tuple[int, int]]]:
    """The cache's generation, and the counts it holds under ``key`` for the ``settled``
    days. No generation when the cache cannot be reached, or failed in this process
    within the last RETRY_AFTER_FAILURE_SECONDS: nothing is written then."""
    if CACHE_ALIAS not in settings.CACHES or not cache_backoff.reachable(CACHE_ALIAS):
        return None, {}
    charts = caches[CACHE_ALIAS]
    try:
        found = charts.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            # First use, or the cache lost it: a new generation, so counts written under
            # one that was forgotten (and perhaps since purged) are never trusted.
            generation = secrets.token_hex(8)
            if not charts.add(GENERATION_KEY, generation, timeout=None):
                # Another process wrote one since the read: all must write under it.
                generation = charts.get(GENERATION_KEY)
            return generation, {}
    except CACHE_ERRORS as error:
        cache_backoff.failed(CACHE_ALIAS)
        logger.warning("Sign-in chart counted in full, cache unreachable: %s", error)
        return None, {}
    entry = found.get(key)
    if entry is None or entry[0] != generation:
        return generation, {}
    return generation, {day: entry[1][day] for day in settled if day in entry[1]}


def _remember(key: str, generation: str, counts: dict[date, tuple[int, int]]) -> None:
    # Down, or full: either way the next views count in full without waiting on it.
    cache_backoff.call(
        CACHE_ALIAS,
        lambda: caches[CACHE_ALIAS].set(
            key, (generation, counts), timeout=int(KEPT_FOR.total_seconds())
        ),
        otherwise=None,
        failure="Sign-in chart's settled days not kept, cache unreachable",
    )
