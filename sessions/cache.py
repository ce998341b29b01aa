"""The validated session of a request, kept in Redis so that a signed-in request costs no
SQL on a hit. Active only when the ``sessions`` cache is configured (REDIS_URL).

An entry holds what a request needs of a live session and its user: the session's
id, user, kind, data, limits and last activity; the user's name, role, account and
flags; the account's id and name. Never the cookie key, nor a password hash; a
browser entry is found by the SHA-256 of the cookie key (as the database row is),
an API entry by the session id of the access token.

Every entry carries a random generation token and counts only while the token
kept beside it (read in the same MGET round trip) is the same. Ending a session,
changing what an entry holds of it or of its user, or deleting the user writes a
new token after the transaction commits: from then on every process misses and
reads the row. A request that read the row before that commit fills its entry
with the token it saw before reading, which no longer matches, so a fill racing
a revoke can never bring the session back; a token that has gone (expired,
evicted) matches no entry. Entries live at most SESSION_CACHE_SECONDS from the
moment their token was read, which bounds what a lost invalidation can cost.

Activity (``last_seen_at``, written to the row at most once a minute) is shared
through a third key read in the same MGET, written only after the row's write
commits, so it is never ahead of the row. Only acceptance is decided from an
entry: a session the entry shows past a limit (its last activity may still be
behind another process's write) is decided by the row, which also ends it.

When Redis cannot be reached, requests read the row, as they do without a cache.
An invalidation that cannot be written (a Redis that is full refuses writes) deletes
the generations instead, which makes every entry of those sessions a miss; one that
can neither be written nor deleted is logged, and a process that still reaches Redis
could then accept that session until its entry expires."""

import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import router, transaction

from accounts.models import Account, User
from securityportal import cache_backoff
from securityportal.cache_backoff import CACHE_ERRORS
from sessions.models import Session

logger = logging.getLogger(__name__)

ALIAS = "sessions"
BROWSER = "b"
API = "a"
# Part of the entry's name, not of the generation's: processes of two releases
# (a rolling deploy) never read each other's entries, but each one's revokes still
# reach the other's entries.
FORMAT = 1
# The largest batch of generations written in one round trip by a bulk end.
WRITE_BATCH = 1000


def _attnames(model: type, wanted: set[str]) -> tuple[str, ...]:
    # Model.from_db takes values in the order of the model's concrete fields.
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


# The rest of each row stays deferred: read from the database if ever used, as the
# client columns are by an audit row of a sign-out.
SESSION_FIELDS = _attnames(
    Session,
    {
        "id",
        "session_data",
        "expire_date",
        "user_id",
        "account_id",
        "kind",
        "last_seen_at",
        "idle_timeout",
        "revoked_at",
        "revoked_reason",
    },
)
USER_FIELDS = _attnames(
    User,
    {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "account_id",
        "is_active",
        "is_staff",
        "is_superuser",
    },
)
ACCOUNT_FIELDS = _attnames(Account, {"id", "name"})
# A user saved with only other fields (last_login at every sign-in, a password hash
# upgrade) changes nothing an entry holds.
CACHED_USER_FIELDS = frozenset({*USER_FIELDS, "account"})


@dataclass(frozen=True)
class Ticket:
    """What a lookup saw before reading the row: the generation a fill must carry."""

    kind: str
    ident: str
    generation: str | None
    read_at: float  # time.monotonic()


def enabled() -> bool:
    return ALIAS in settings.CACHES


def _entry_key(kind: str, ident: str) -> str:
    return f"session:{kind}:{ident}:v{FORMAT}"


def _generation_key(kind: str, ident: str) -> str:
    return f"session:{kind}:{ident}:generation"


def _seen_key(kind: str, ident: str) -> str:
    # Beside the entry, not in it: recording activity never rewrites the entry, whose
    # lifetime and generation stay those of the row it was read from.
    return f"session:{kind}:{ident}:last-seen"


def _unreachable(error: Exception) -> None:
    # For the next RETRY_AFTER_FAILURE_SECONDS, this process reads sessions from the
    # database instead of waiting on an unreachable server for every request.
    cache_backoff.failed(ALIAS)
    logger.warning("Session cache unreachable, reading sessions from the database: %s", error)


def read(kind: str, ident: str) -> tuple[Session | None, Ticket | None]:
    """The live session cached under ``ident``, with its user and account, or None;
    and the ticket ``fill`` needs after the row is read (None: do not fill)."""
    if not enabled() or not cache_backoff.reachable(ALIAS):
        return None, None
    keys = _entry_key(kind, ident), _generation_key(kind, ident), _seen_key(kind, ident)
    try:
        found = caches[ALIAS].get_many(keys)
    except CACHE_ERRORS as error:
        _unreachable(error)
        return None, None
    entry, generation, seen = (found.get(key) for key in keys)
    ticket = Ticket(kind, ident, generation, time.monotonic())
    # An entry counts only under its own, present generation: with the generation
    # gone (expired, evicted) it could predate an invalidation, so it is a miss.
    if entry is None or generation is None or entry[0] != generation:
        return None, ticket
    try:
        session = _session_of(entry, kind, ident)
    except (TypeError, ValueError, IndexError):
        return None, ticket
    # Activity is written to the row first, so the newer of the two is never ahead
    # of the row: the idle limit is never stretched by it.
    if seen is not None and seen > session.last_seen_at:
        session.last_seen_at = seen
    return session, ticket


def _session_of(entry: tuple, kind: str, ident: str) -> Session:
    _generation, session_values, user_values, account_values = entry
    db = router.db_for_read(Session)
    session = Session.from_db(db, SESSION_FIELDS, session_values)
    user = User.from_db(db, USER_FIELDS, user_values)
    account = (
        None if account_values is None else Account.from_db(db, ACCOUNT_FIELDS, account_values)
    )
    User._meta.get_field("account").set_cached_value(user, account)
    Session._meta.get_field("user").set_cached_value(session, user)
    # The lookup's own key: what ending this session invalidates.
    session.key_hash = ident if kind == BROWSER else None
    return session


def fill(ticket: Ticket | None, session: Session) -> None:
    """Cache ``session``, a live row just read and validated, under ``ticket``."""
    if ticket is None:
        return
    # Counted from before the row was read: see the module docstring.
    seconds = int(settings.SESSION_CACHE_SECONDS - (time.monotonic() - ticket.read_at))
    if seconds < 1:
        return
    generation = ticket.generation
    try:
        if generation is None:
            # A generation of its own, created only if none has appeared since the
            # ticket was taken: one that did was written by an invalidation this row
            # may predate, and then nothing is cached.
            generation = secrets.token_hex(8)
            if not caches[ALIAS].add(
                _generation_key(ticket.kind, ticket.ident),
                generation,
                timeout=_generation_seconds(),
            ):
                return
    except CACHE_ERRORS as error:
        _unreachable(error)
        return
    user = session.user
    entry = (
        generation,
        tuple(getattr(session, name) for name in SESSION_FIELDS),
        tuple(getattr(user, name) for name in USER_FIELDS),
        None if user.account is None else tuple(getattr(user.account, n) for n in ACCOUNT_FIELDS),
    )
    try:
        caches[ALIAS].set(_entry_key(ticket.kind, ticket.ident), entry, timeout=seconds)
    except CACHE_ERRORS as error:
        _unreachable(error)


def activity_recorded(session: Session, *, written: bool) -> None:
    """After ``record_activity``: share a new ``last_seen_at`` with every process, so none
    writes it again within the minute; or, when the write found the row newer (or
    ended) than this copy, invalidate the entry, which was behind."""
    if not enabled():
        return
    if not written:
        forget([(session.pk, session.key_hash)])
        return
    kind, ident = (BROWSER, session.key_hash) if session.key_hash else (API, str(session.pk))
    seen_key, last_seen_at = _seen_key(kind, ident), session.last_seen_at

    def share() -> None:
        try:
            caches[ALIAS].set(seen_key, last_seen_at, timeout=settings.SESSION_CACHE_SECONDS)
        except CACHE_ERRORS as error:
            _unreachable(error)

    # Only once the row holds it: a rolled-back write must not extend the idle limit.
    transaction.on_commit(share, robust=True)


def forget(sessions: Iterable[tuple[Any, str | None]]) -> None:
    """Invalidate the entries of ``sessions`` (pairs of id and key hash) in every process,
    once the current transaction commits (at once outside one)."""
    if not enabled():
        return
    keys = []
    for pk, key_hash in sessions:
        keys.append(_generation_key(API, str(pk)))
        if key_hash:
            keys.append(_generation_key(BROWSER, key_hash))
    if keys:
        transaction.on_commit(lambda: _new_generations(keys), robust=True)


def forget_row(pk: Any, *known: str | None) -> None:
    """Invalidate session ``pk``'s entries under the key hashes the caller read
    (``known``) and under the one its row holds now. Another request may have rotated
    the cookie's key since the caller read the row (a re-authentication in another
    tab), and that browser's entry is then under the new key's hash."""
    if not enabled():
        return
    current = Session.objects.filter(pk=pk).values_list("key_hash", flat=True).first()
    forget([(pk, key_hash) for key_hash in dict.fromkeys((*known, current))])


def _generation_seconds() -> int:
    # Longer than an entry lives, so that an entry is not dropped with its generation.
    return 2 * settings.SESSION_CACHE_SECONDS


def _new_generations(keys: list[str]) -> None:
    timeout = _generation_seconds()
    try:
        for start in range(0, len(keys), WRITE_BATCH):
            batch = keys[start : start + WRITE_BATCH]
            caches[ALIAS].set_many({key: secrets.token_hex(8) for key in batch}, timeout=timeout)
    except CACHE_ERRORS as error:
        # A Redis that refuses writes (full, with noeviction) still takes deletes, and
        # an entry without its generation is a miss in every process (a late fill
        # carries the old generation, which is gone, and cannot create a new one
        # while writes are refused).
        try:
            caches[ALIAS].delete_many(keys)
        except CACHE_ERRORS:
            # Nothing more can be done from here: processes that still reach Redis
            # may accept these sessions until their entries expire
            # (SESSION_CACHE_SECONDS). This one reads the database for a while.
            _unreachable(error)
            logger.error(
                "Session cache unreachable: %d cached sessions not invalidated (%s)",
                len(keys),
                error,
            )
