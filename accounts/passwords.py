"""Changing one's own password from a signed-in session: the page and the API call this."""

from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from accounts.signals import PasswordChangeOrigin

UNCHANGED = "Choose a password other than your current one."


@sensitive_variables("current", "new")
def is_unchanged(*, current: str, new: str) -> bool:
    """Whether a change would set the password it replaces: refused, so that "change
    your password now" cannot be answered by typing the same one (reported, e-mailed
    and audited as a change) while whoever knows it keeps it. Ask only once
    ``current`` is proven: before, the answer would test guesses at it unlocked."""
    return constant_time_compare(current, new)


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
