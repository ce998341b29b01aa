from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from securityportal.purge import add_batch_size_argument
from sessions.store import SessionStore


class Command(BaseCommand):
    help = (
        "Delete sessions that ended more than SESSION_RETENTION_DAYS ago, with their "
        "refresh tokens. Batched, so it is safe to run from cron while the site serves."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_batch_size_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = SessionStore.clear_expired(batch_size=options["batch_size"])
        self.stdout.write(
            f"Deleted {deleted} ended sessions older than {settings.SESSION_RETENTION_DAYS} days."
        )
