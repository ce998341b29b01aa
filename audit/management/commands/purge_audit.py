import re
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit import chart
from audit.models import AuditEvent, LoginEvent
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
        deleted = {}
        for model, name in ((AuditEvent, "audit events"), (LoginEvent, "sign-in events")):
            deleted[model] = delete_in_batches(
                model.objects.filter(created_at__lt=cutoff), batch_size=options["batch_size"]
            )
            self.stdout.write(f"Deleted {deleted[model]} {name} older than {age}.")
        if deleted[LoginEvent] and cutoff > now - timedelta(days=chart.DAYS):
            # Sign-ins of days the charts keep counted are gone: count them afresh.
            chart.forget_settled_days()
