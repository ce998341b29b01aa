from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User


def find_user(identifier: str) -> User | None:
    """The user a sign-in identifier names: an e-mail if it holds "@", else a username.

    Both match case-insensitively (uniqueness is case-insensitive too)."""
    users = get_user_model().objects.select_related("account")
    if "@" in identifier:
        return users.filter(email__iexact=identifier).first()
    return users.filter(username__iexact=identifier).first()


class UsernameOrEmailBackend(ModelBackend):
    """Sign-in by username or e-mail address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: object,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            # User enumeration by timing: hash anyway, so an unknown username
            # costs what a wrong password costs (Django's ModelBackend does the same).
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
