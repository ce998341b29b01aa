"""Changing one's own password from a signed-in session: the page and the API call this."""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from accounts.signals import PasswordChangeOrigin


@sensitive_variables("new_password")
@transaction.atomic
def change_password(*, user: User, new_password: str, session: object, ip: str | None) -> int:
    """Store ``new_password`` for ``user``; every session but ``session`` ends.

    The sessions end, the change is audited and the user is e-mailed by the
    ``password_changed`` receivers, which run for every way a password changes;
    this returns how many sessions they ended. Validating the current and the new
    password is the caller's form or serializer's job."""
    origin = PasswordChangeOrigin(session=session, ip=ip)
    user.set_password(new_password)
    user.password_change_origin = origin
    user.save(update_fields=["password"])
    return origin.revoked_count
