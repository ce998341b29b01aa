from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import roles, signals
from accounts.policy import validate_overrides
from accounts.signals import PasswordChangeOrigin

# No "@" in usernames: the sign-in field takes a username or an e-mail, and an
# identifier containing "@" is always read as an e-mail, so the two can never
# name different people.
username_validator = RegexValidator(
    r"^[\w.+-]+\Z",
    "Use letters, digits and . + - _ only (no @).",
    code="invalid_username",
)


class AccountManager(models.Manager):
    def named(self, name: str) -> "Account | None":
        """The account called ``name`` in any letter case, compared as the unique
        constraint compares (the database's lower() on both sides): at most one."""
        return (
            self.alias(folded=Lower("name"))
            .filter(folded=Lower(models.Value(name, output_field=models.CharField())))
            .first()
        )


class Account(models.Model):
    """A tenant: the users of one customer and the session policy they share."""

    name = models.CharField(max_length=100, unique=True)
    # NULL means "use the system default" (settings.SESSION_*_MINUTES_DEFAULT).
    session_idle_minutes = models.PositiveIntegerField(null=True, blank=True)
    session_absolute_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AccountManager()

    class Meta:
        constraints = [
            # Accounts are named case-insensitively (make user ACCOUNT=acme finds
            # Acme): "Acme" and "ACME" may not be two tenants, or a user could be
            # placed in the wrong one.
            models.UniqueConstraint(
                Lower("name"),
                name="accounts_account_name_ci_unique",
                violation_error_message="An account with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The session policy rule of ``accounts.policy.validate_overrides``, with its
        errors on this model's fields (the admin's form shows them there)."""
        try:
            validate_overrides(
                idle_minutes=self.session_idle_minutes,
                absolute_minutes=self.session_absolute_minutes,
            )
        except ValidationError as error:
            raise ValidationError(
                {f"session_{field}": messages for field, messages in error.message_dict.items()}
            ) from None


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, identifier: str) -> "User":
        """The user a sign-in identifier names: an e-mail if it holds "@", else a
        username, either in any letter case (uniqueness is case-insensitive too).

        Django's ModelBackend signs in through this, and keeps its defence against
        user enumeration by timing: an unknown name is hashed like a wrong password."""
        field = "email" if "@" in identifier else "username"
        # Compared exactly as the unique constraints compare (the database's
        # lower() on both sides), so at most one user can match: a case-folding
        # lookup such as __iexact (upper()) could match two users whose names
        # differ only in letters that fold differently (Greek final and medial
        # sigma, the long s and s).
        return (
            self.select_related("account")
            .alias(folded=Lower(field))
            .get(folded=Lower(models.Value(identifier, output_field=models.CharField())))
        )

    def for_identifier(self, identifier: str) -> "User | None":
        """``get_by_natural_key``, or None for a name that matches nobody."""
        try:
            return self.get_by_natural_key(identifier)
        except (self.model.DoesNotExist, self.model.MultipleObjectsReturned):
            return None


# A user loaded without its password hash (see User.from_db).
_NOT_LOADED = object()


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

    @classmethod
    def from_db(cls, db: str, field_names: Any, values: Any) -> "User":
        user = super().from_db(db, field_names, values)
        # The hash as loaded: a save that stores another one changed the password,
        # whichever way it was set (set_password, a hash assigned directly,
        # set_unusable_password). A user loaded without it (the session cache never
        # holds password hashes) reads the stored one when it is saved.
        user._stored_password = user.__dict__.get("password", _NOT_LOADED)
        return user

    def check_password(self, raw_password: str) -> bool:
        verified = self.password

        def upgrade(raw: str) -> None:
            # A hasher upgrade stores a new hash of the same password: no session
            # ends for it, so it is written past save() and its password_changed.
            # Only over the hash just verified (compare-and-swap): a password
            # changed while this one was being hashed (Argon2 takes a while) must
            # not be overwritten with a new hash of the old password (lost update).
            self.set_password(raw)
            self._password = None
            stored = type(self)._base_manager.filter(pk=self.pk)
            if stored.filter(password=verified).update(password=self.password):
                self._stored_password = self.password
                return
            # Another sign-in upgraded it first (a browser and an app signing in at
            # once): its hash of this same password is the one to go on with, or the
            # sign-in would be refused as if the password had changed. A hash of
            # another password leaves the one verified, which the sign-in then
            # finds changed (sessions.lifecycle.open_session).
            current = stored.values_list("password", flat=True).first()
            if current and check_password(raw, current):
                self.password = self._stored_password = current
            else:
                self.password = verified

        return check_password(raw_password, verified, upgrade)

    def _password_is_changing(self, update_fields: Any) -> bool:
        if self._state.adding:
            return False  # a new user's first password
        if update_fields is not None and "password" not in update_fields:
            return False
        if self._password is not None:
            return True
        stored = getattr(self, "_stored_password", None)
        if stored is _NOT_LOADED:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("password", flat=True)
            stored = next(iter(stored), None)
        return stored is not None and self.password != stored

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        password_changed = self._password_is_changing(update_fields)
        role_saved = update_fields is None or not {"role", "is_staff", "is_superuser"}.isdisjoint(
            update_fields
        )
        if role_saved:
            # Staff status follows the role and nothing else: a form, an import or a
            # script that sets is_staff on a member cannot open the admin to them.
            self.is_staff = roles.staff_for(self)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)
        self._stored_password = self.__dict__.get("password", _NOT_LOADED)
        if role_saved:
            roles.sync_owner_group(self)
        if password_changed:
            origin, self.password_change_origin = self.password_change_origin, None
            signals.password_changed.send(sender=User, user=self, origin=origin)
