from typing import Any

from django.core.management.base import CommandParser

from accounts.management.provisioning_command import ProvisioningCommand
from accounts.models import User
from accounts.provisioning import create_user


class Command(ProvisioningCommand):
    help = "Create a user in an existing account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--account", required=True, help="The account's name.")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=User.Role.values, default=User.Role.MEMBER)
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        password = self.read_password(options)
        user = self.provision(
            lambda: create_user(
                username=options["username"],
                email=options["email"],
                account_name=options["account"],
                role=options["role"],
                password=password,
            )
        )
        # The account as it is named, which the name given matched in any letter case.
        self.stdout.write(f"Created {user.role} {user.username!r} in {user.account.name!r}.")
