from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import signals
from accounts.signals import PasswordChangeOrigin

# No "@" in usernames: the sign-in field takes a username or an e-mail, and an
# identifier containing "@" is always read as an e-mail, so the two can never
# name different people.
username_validator = RegexValidator(
    r"^[\w.+-]+\Z",
    "Use letters, digits and . + - _ only (no @).",
    code="invalid_username",
)


class Account(models.Model):
    """A tenant: the users of one customer and the session policy they share."""

    name = models.CharField(max_length=100, unique=True)
    # NULL means "use the system default" (settings.SESSION_*_MINUTES_DEFAULT).
    session_idle_minutes = models.PositiveIntegerField(null=True, blank=True)
    session_absolute_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField("email address", unique=True)
    # Only platform superusers live outside an account.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    # Set, before save(), by code that changes a password from a signed-in session:
    # that session stays signed in. Like ``user.backend``, it lives on this instance.
    password_change_origin: PasswordChangeOrigin | None = None

    class Meta:
        constraints = [
            # Sign-in matches case-insensitively, so uniqueness must too:
            # "Alice" and "alice" may not be two people.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() keeps the new raw password in _password until it is saved;
        # Django clears it before saving a hasher upgrade at sign-in, which is not
        # a change. A new user's first password is not a change either.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            origin, self.password_change_origin = self.password_change_origin, None
            signals.password_changed.send(sender=User, user=self, origin=origin)
