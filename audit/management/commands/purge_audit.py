import re
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit import chart
from audit.models import AuditEvent, LoginEvent
from securityportal.cache_backoff import CACHE_ERRORS
from securityportal.purge import add_batch_size_argument, delete_in_batches

AGE = re.compile(r"(?P<sign>-?)(?P<count>\d+)(?P<unit>[dh])")
UNITS = {"d": "day", "h": "hour"}


def cutoff_for(raw: str, now: datetime) -> tuple[datetime, str]:
    """The moment ``raw`` (``365d`` or ``48h``) before ``now``, and ``raw`` in words.

    Anything else is a CommandError that says how to write it."""
    match = AGE.fullmatch(raw.strip().lower())
    if match is None:
        raise CommandError(
            f"--older-than {raw!r} is not an age. Write --older-than as a number of days, "
            "like 365d. For hours, write 48h."
        )
    count, unit = int(match["count"]), UNITS[match["unit"]]
    if match["sign"] or count == 0:
        # Everything up to now is the whole trail, including what is being written.
        raise CommandError(
            f"--older-than must be more than zero, like 365d; {raw} would delete "
            "the whole audit trail."
        )
    try:
        cutoff = now - timedelta(**{f"{unit}s": count})
    except OverflowError:
        raise CommandError(
            f"--older-than {raw} reaches back before the year 1; nothing is that old."
        ) from None
    return cutoff, f"{count} {unit}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Delete audit events and sign-in records created before the given age. "
        "Batched, so it is safe to run from cron while the site serves."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default="365d",
            help="Age of the rows to delete: days like 365d, or hours like 48h (default 365d).",
        )
        add_batch_size_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        cutoff, age = cutoff_for(options["older_than"], now)
        for model, name in ((AuditEvent, "audit events"), (LoginEvent, "sign-in events")):
            deleted = delete_in_batches(
                model.objects.filter(created_at__lt=cutoff), batch_size=options["batch_size"]
            )
            self.stdout.write(f"Deleted {deleted} {name} older than {age}.")
        if cutoff > now - timedelta(days=chart.DAYS):
            # Sign-ins of days the charts keep counted may be gone: count them afresh.
            # Even when this run deleted none: it may be the run again of one whose
            # deletions the charts could not be told of.
            try:
                chart.forget_settled_days()
            except CACHE_ERRORS as error:
                raise CommandError(
                    f"The sign-in records were deleted, but the sign-in charts could not "
                    f"be told ({error}): they may show the deleted sign-ins for up to "
                    f"{chart.KEPT_FOR.days} days. Run the purge again once Redis is "
                    "reachable."
                ) from error
