"""Password rules beyond Django's own."""

from django.core.exceptions import ValidationError

from accounts.models import User

# Far above any passphrase, but a bound: a megabyte "password" must not tie up a
# worker in the hasher. Every field that takes a password uses it.
PASSWORD_MAX = 1024


class MaximumLengthValidator:
    """Refuse passwords longer than ``max_length`` (PASSWORD_MAX). Passwords are
    never truncated: every character counts."""

    def __init__(self, max_length: int = PASSWORD_MAX) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: User | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."
