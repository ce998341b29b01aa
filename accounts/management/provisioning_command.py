import getpass
import os
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

PASSWORD_ENV = "PORTAL_PASSWORD"
T = TypeVar("T")


class ProvisioningCommand(BaseCommand):
    """Shared by create_account and create_user: the password source and error reporting."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help=f"Do not prompt; read the password from ${PASSWORD_ENV}.",
        )

    def read_password(self, options: dict[str, Any]) -> str:
        if not options["interactive"]:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(f"--noinput needs the password in ${PASSWORD_ENV}.")
            return password
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            # No terminal to type on (cron, a pipe), or the operator gave up.
            raise CommandError(
                f"No password was typed; nothing was created. Without a terminal, give "
                f"it in ${PASSWORD_ENV} with --noinput."
            ) from None
        if password != again:
            raise CommandError("The two passwords differ; nothing was created.")
        return password

    def provision(self, create: Callable[[], T], *, options: dict[str, str] | None = None) -> T:
        """Run ``create`` and return what it made; a validation failure becomes a
        CommandError naming what each message is about: the command's option for the
        model field (``options``), else the field."""
        try:
            return create()
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                raise CommandError("; ".join(error.messages)) from None
            named = options or {}
            raise CommandError(
                "; ".join(
                    message
                    if field == NON_FIELD_ERRORS
                    else f"{named.get(field, field)}: {message}"
                    for field, messages in error.message_dict.items()
                    for message in messages
                )
            ) from None
        except IntegrityError:
            # Another run created the same name between the check and the insert.
            raise CommandError(
                "It was created by someone else meanwhile; nothing was created."
            ) from None
