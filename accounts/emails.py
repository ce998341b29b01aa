"""Security e-mails to a user: plain text, no secret in them, never fatal to the request."""

import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from accounts.models import User

logger = logging.getLogger(__name__)


def send_security_email(
    user: User, *, subject: str, template: str, context: dict[str, Any]
) -> None:
    """Send ``template`` (plain text) to ``user`` once the current transaction commits.

    Rendered now, while the action's rows are at hand; sent after the commit, so a
    sign-in or password change that rolls back is never reported as done, and a slow
    mail server holds no transaction (or its row locks) open. A mail server that is
    down must not undo the action either: a failure is logged, not raised."""
    if not user.email:
        return
    body = render_to_string(template, {"user": user, **context})
    address, user_id = user.email, user.pk

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except Exception as error:
            # No traceback: SMTP errors quote the address (SMTPRecipientsRefused), and
            # the log needs no more than the user id and the kind of failure.
            logger.error(
                "Security e-mail %r to user %s could not be sent (%s)",
                subject,
                user_id,
                type(error).__name__,
            )

    transaction.on_commit(send)
