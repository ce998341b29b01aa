import getpass
import os
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

PASSWORD_ENV = "PORTAL_PASSWORD"


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
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was created.")
        return password

    def provision(self, create: Callable[[], object]) -> None:
        """Run ``create``; a validation failure becomes a clear CommandError."""
        try:
            create()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
