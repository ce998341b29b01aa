from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

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


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, identifier: str) -> "User":
        """The user a sign-in identifier names: an e-mail if it holds "@", else a
        username, either in any letter case (uniqueness is case-insensitive too).

        Django's ModelBackend signs in through this, and keeps its defence against
        user enumeration by timing: an unknown name is hashed like a wrong password."""
        lookup = "email__iexact" if "@" in identifier else "username__iexact"
        return self.select_related("account").get(**{lookup: identifier})

    def for_identifier(self, identifier: str) -> "User | None":
        """``get_by_natural_key``, or None for a name that matches nobody."""
        try:
            return self.get_by_natural_key(identifier)
        except self.model.DoesNotExist:
            return None


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

    # Django ties a browser session to the stored password hash (HASH_SESSION_KEY), so a
    # rewrite of the hash signs the session out on its next request. A hasher upgrade
    # at sign-in rewrites the hash without changing the password: every other browser
    # of the user was signed out, and recorded as a "logout" they never made. Here a
    # password change ends sessions by their rows (``password_changed``, received by
    # sessions.receivers), browser and API alike, so the session hash names the user only.
    def get_session_auth_hash(self) -> str:
        return self._session_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret)
        # A session signed in before this rule holds Django's hash of the password:
        # Django re-keys it onto the one above instead of signing it out.
        yield super().get_session_auth_hash()

    def _session_hash(self, secret: str) -> str:
        return salted_hmac(
            "accounts.User.session_auth_hash", str(self.pk), secret=secret, algorithm="sha256"
        ).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() keeps the new raw password in _password until it is saved;
        # Django clears it before saving a hasher upgrade at sign-in, which is not
        # a change. A new user's first password is not a change either.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            origin, self.password_change_origin = self.password_change_origin, None
            signals.password_changed.send(sender=User, user=self, origin=origin)
