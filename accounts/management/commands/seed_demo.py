import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Account, User
from accounts.provisioning import create_account, create_user

DEMO_ACCOUNT = "Demo"


class Command(BaseCommand):
    help = "Create the demo account (an owner and a member) once, printing their passwords."

    def handle(self, *args: Any, **options: Any) -> None:
        if Account.objects.filter(name=DEMO_ACCOUNT).exists():
            self.stdout.write(
                "The demo account exists already; its passwords were printed when it was made."
            )
            return
        owner_password = secrets.token_urlsafe(12)
        member_password = secrets.token_urlsafe(12)
        with transaction.atomic():
            create_account(
                name=DEMO_ACCOUNT,
                owner_username="owner",
                owner_email="owner@demo.example",
                password=owner_password,
            )
            create_user(
                username="member",
                email="member@demo.example",
                account_name=DEMO_ACCOUNT,
                role=User.Role.MEMBER,
                password=member_password,
            )
        self.stdout.write("Demo account created. These passwords are shown only now:")
        self.stdout.write(f"  owner  / {owner_password}")
        self.stdout.write(f"  member / {member_password}")
