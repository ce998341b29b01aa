import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Account, User
from accounts.provisioning import create_account, create_user

DEMO_ACCOUNT = "Demo"
DEMO_USERNAMES = {"owner": User.Role.OWNER, "member": User.Role.MEMBER}


def _new_password() -> str:
    return secrets.token_urlsafe(12)


class Command(BaseCommand):
    help = (
        "Create the demo account (an owner and a member) once, printing their passwords; "
        "with --reset-passwords, give them new ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set and print new passwords for the demo owner and member "
            "(their sessions end, as on any password change).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Account.objects.named(DEMO_ACCOUNT) is None:
            try:
                passwords = self._create_demo_account()
            except ValidationError as error:
                refused = f"No demo account was made: {'; '.join(error.messages)}"
                if options["reset_passwords"]:
                    # Asked for passwords by name: no passwords is a failure.
                    raise CommandError(refused) from None
                # A name the demo needs is another account's or user's on this database:
                # said, and not fatal, so that make run still serves what is there.
                self.stderr.write(
                    f"{refused} Sign in with the accounts this database has, or run with "
                    "another DATABASE_URL."
                )
                return
            self.stdout.write("Demo account created. These passwords are shown only now:")
        elif options["reset_passwords"]:
            passwords = self._reset_passwords()
            self.stdout.write("New demo passwords; the old ones no longer work:")
        else:
            # The passwords are stored only as hashes, so they cannot be shown again.
            self.stdout.write(
                "The demo account exists already; its passwords were printed when it was "
                "made. For new ones: manage.py seed_demo --reset-passwords "
                "(make demo-passwords)."
            )
            return
        for username in DEMO_USERNAMES:
            self.stdout.write(f"  {username:<6} / {passwords[username]}")

    @transaction.atomic
    def _create_demo_account(self) -> dict[str, str]:
        passwords = {username: _new_password() for username in DEMO_USERNAMES}
        create_account(
            name=DEMO_ACCOUNT,
            owner_username="owner",
            owner_email="owner@demo.example",
            password=passwords["owner"],
        )
        create_user(
            username="member",
            email="member@demo.example",
            account_name=DEMO_ACCOUNT,
            role=User.Role.MEMBER,
            password=passwords["member"],
        )
        return passwords

    @transaction.atomic
    def _reset_passwords(self) -> dict[str, str]:
        users = {
            user.username: user
            for user in User.objects.filter(
                account=Account.objects.named(DEMO_ACCOUNT), username__in=DEMO_USERNAMES
            )
        }
        for username, role in DEMO_USERNAMES.items():
            if username not in users:
                raise CommandError(
                    f"The demo account has no user {username!r}; nothing was changed. Add it "
                    f"with: manage.py create_user {username} --account {DEMO_ACCOUNT} "
                    f"--email {username}@demo.example --role {role}"
                )
        passwords = {}
        for username in DEMO_USERNAMES:
            passwords[username] = _new_password()
            # save() sends password_changed: the user's sessions end and the change
            # is audited, so a leaked old demo password stops working everywhere.
            users[username].set_password(passwords[username])
            users[username].save(update_fields=["password"])
        return passwords
