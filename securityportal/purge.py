"""Deleting old rows without holding the database: the loop behind the retention commands."""

from argparse import ArgumentTypeError

from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import QuerySet

DEFAULT_BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete every row of ``queryset``, ``batch_size`` primary keys per DELETE; how many
    rows of its model were deleted (rows removed by cascade are not counted).

    Each batch is its own short transaction, so the site keeps serving while a purge
    runs: no lock outlives one batch, and an interrupted purge keeps what it did.
    The DELETE repeats the queryset's filter, so a row that stopped matching after it
    was picked is left alone. Batches walk the primary key upwards, so each SELECT
    starts where the last one stopped instead of rescanning the rows just deleted."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    label = queryset.model._meta.label
    ordered = queryset.order_by("pk")
    deleted = 0
    last_pk = None
    while True:
        batch = ordered if last_pk is None else ordered.filter(pk__gt=last_pk)
        pks = list(batch.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        with transaction.atomic(using=queryset.db):
            _, per_model = queryset.filter(pk__in=pks).delete()
        deleted += per_model.get(label, 0)
        last_pk = pks[-1]


# A batch is one DELETE in one transaction, holding its row locks until it commits:
# larger ones would hold them for seconds while the portal serves.
MAX_BATCH_SIZE = 100_000


def _batch_size(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise ArgumentTypeError(
            f"{raw!r} is not a batch size: give a whole number from 1 to {MAX_BATCH_SIZE}, "
            "like 1000."
        )
    return value


def add_batch_size_argument(parser: CommandParser) -> None:
    """The ``--batch-size`` option every purge command takes."""
    parser.add_argument(
        "--batch-size",
        type=_batch_size,
        default=DEFAULT_BATCH_SIZE,
        help=f"Rows per DELETE, each its own transaction (default {DEFAULT_BATCH_SIZE}).",
    )
