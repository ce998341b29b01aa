from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest

from sessions.store import SessionStore


def write_session_at_sign_in(sender: type, request: HttpRequest, **kwargs: Any) -> None:
    """Insert the browser's Session row as soon as ``auth.login`` has signed the user in.

    Without this the row would appear only when the response is sent, after
    every other ``user_logged_in`` receiver has run; with it, they can link
    what they record to ``request.session.row``."""
    session = getattr(request, "session", None)
    # An API sign-in arrives here too, with the visitor's empty cookie store.
    if isinstance(session, SessionStore) and session.row is None and SESSION_KEY in session:
        session.save()
