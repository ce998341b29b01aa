"""The session row a request presents, read with its user and the user's account in one
statement whose SQL is built once per database connection (securityportal.compiled).

Building that statement from a queryset (resolving the joins, the select list and
the converters of forty columns) took longer than running it, and every signed-in
request paid for it."""

import uuid

from securityportal.compiled import SENTINEL_TEXT, CompiledQuery
from sessions.models import Session

# No ORDER BY and no LIMIT: key_hash is unique.
_BROWSER = CompiledQuery(
    Session,
    lambda key_hash: Session.objects.select_related("user__account").filter(key_hash=key_hash),
    key_hash=("key_hash", SENTINEL_TEXT),
)
_API = CompiledQuery(
    Session,
    lambda session_id: Session.objects.select_related("user__account").filter(
        pk=session_id, kind=Session.Kind.API
    ),
    session_id=("id", uuid.UUID(int=0)),
)


def browser_session_row(key_hash: str) -> Session | None:
    """The session row whose cookie key hashes to ``key_hash``, with ``user`` and
    ``user.account`` loaded, or None; one statement."""
    return _BROWSER.first(key_hash=key_hash)


def api_session_row(session_id: uuid.UUID) -> Session | None:
    """The API session ``session_id``, with ``user`` and ``user.account`` loaded, or
    None; one statement."""
    return _API.first(session_id=session_id)
