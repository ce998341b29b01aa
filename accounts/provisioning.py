"""Creating accounts and users: one path for the management commands and the demo seed."""

import unicodedata

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account, User


def _typed_text(**values: str) -> None:
    """Refuse a value with a control character before any query reads it: PostgreSQL
    text cannot hold a NUL, and a tab or a line break in a name is one nobody could
    type back (or tell from the name without it)."""
    for label, value in values.items():
        if any(unicodedata.category(character) == "Cc" for character in value):
            raise ValidationError(
                f"The {label} {value!r} holds a control character (a tab, a line break or "
                "a NUL): type it without."
            )


def _check_new_user(*, username: str, email: str) -> None:
    _typed_text(username=username, email=email)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"A user named {username!r} already exists.")
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(f"A user with the e-mail {email!r} already exists.")


def _build_user(*, username: str, email: str, account: Account, role: str, password: str) -> User:
    user = User(
        username=username, email=User.objects.normalize_email(email), account=account, role=role
    )
    user.full_clean(exclude=["password", "account"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def create_account(*, name: str, owner_username: str, owner_email: str, password: str) -> Account:
    """Create an account and its first owner, or nothing (raises ValidationError).
    The name is taken without the blanks around it: "Acme " is Acme."""
    name = name.strip()
    _typed_text(name=name)
    if not name:
        raise ValidationError("An account needs a name.")
    if Account.objects.named(name) is not None:
        raise ValidationError(f"An account named {name!r} already exists.")
    _check_new_user(username=owner_username, email=owner_email)
    account = Account(name=name)
    account.full_clean()
    account.save()
    _build_user(
        username=owner_username,
        email=owner_email,
        account=account,
        role=User.Role.OWNER,
        password=password,
    )
    return account


@transaction.atomic
def create_user(*, username: str, email: str, account_name: str, role: str, password: str) -> User:
    """Create a user in an existing account, or nothing (raises ValidationError)."""
    account_name = account_name.strip()
    _typed_text(account=account_name)
    account = Account.objects.named(account_name)
    if account is None:
        raise ValidationError(f"There is no account named {account_name!r}.")
    if role not in User.Role.values:
        raise ValidationError(f"Role must be one of {', '.join(User.Role.values)}.")
    _check_new_user(username=username, email=email)
    return _build_user(
        username=username, email=email, account=account, role=role, password=password
    )
