from typing import Any

from django.core.management.base import CommandParser

from accounts.management.provisioning_command import ProvisioningCommand
from accounts.provisioning import create_account


class Command(ProvisioningCommand):
    help = "Create an account (tenant) and its first owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The account's name.")
        parser.add_argument("--owner", required=True, help="The owner's username.")
        parser.add_argument("--email", required=True, help="The owner's e-mail address.")
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        password = self.read_password(options)
        account = self.provision(
            lambda: create_account(
                name=options["name"],
                owner_username=options["owner"],
                owner_email=options["email"],
                password=password,
            ),
            options={"username": "--owner", "email": "--email"},
        )
        # As stored: the name without its surrounding blanks.
        self.stdout.write(f"Created account {account.name!r} owned by {options['owner']!r}.")
