"""Security e-mails to a user: plain text, no secret in them, never fatal to the request."""

import logging
from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import User

logger = logging.getLogger(__name__)


def send_security_email(
    user: User, *, subject: str, template: str, context: dict[str, Any]
) -> None:
    """Send ``template`` (plain text) to ``user``. A mail server that is down must not
    undo a sign-in or a password change, so a failure is logged, not raised."""
    if not user.email:
        return
    body = render_to_string(template, {"user": user, **context})
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        # The address is not a secret, but the log needs no more than the user id.
        logger.exception("Security e-mail %r to user %s could not be sent", subject, user.pk)
