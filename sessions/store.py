"""The SESSION_ENGINE: Django's session API over ``user_sessions.Session`` rows.

Differences from django.contrib.sessions' database store, each on purpose:

- Only the SHA-256 of the cookie key is stored; the raw key lives in the cookie.
- Only signed-in sessions are stored. An anonymous visitor never gets a row, so
  unauthenticated traffic cannot fill the table.
- Loading checks the row with ``validate_session``: a revoked or expired
  session loads as empty, and ``ended_reason`` says why.
- Rotating the key of a signed-in session re-keys the same row, so the session
  keeps its identity, history and limits while the old cookie value stops working.
"""

import functools
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase
from django.core import signing
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from securityportal.client import ClientInfo
from securityportal.purge import DEFAULT_BATCH_SIZE, delete_in_batches
from sessions import cache as session_cache
from sessions.digest import sha256_hex
from sessions.lifecycle import open_session
from sessions.models import RevokedReason, Session
from sessions.validation import browser_session

# Django's own keys are 32 characters of [a-z0-9]; anything else is forged and
# is refused before it reaches the database.
KEY_LENGTH = 32
_KEY_CHARS = frozenset(VALID_KEY_CHARS)
COOKIE_OUTLIVES_SESSION = timedelta(days=1)


# Decoding checks the text's signature (an HMAC under a key derived from SECRET_KEY
# on every call) before parsing it, on every signed-in request, while a session's
# stored text changes only when its data does. Each process remembers which texts
# passed that check: the same text always passes or fails alike, and a changed or
# forged text is another key, checked afresh. Parsing still happens per request, so
# every request gets data of its own to change.
VERIFIED_TEXTS_REMEMBERED = 1024


class _Unparsed:
    """A serializer for ``signing.loads`` that hands back the verified bytes as they are."""

    def loads(self, data: bytes) -> bytes:
        return data


@functools.lru_cache(maxsize=VERIFIED_TEXTS_REMEMBERED)
def _verified(session_data: str, salt: str) -> bytes | None:
    try:
        return signing.loads(session_data, salt=salt, serializer=_Unparsed)
    except Exception:
        # Forged, truncated or unreadable: Django's decode says what to do with it.
        return None


class SessionStore(SessionBase):
    def __init__(self, session_key: str | None = None, client: ClientInfo | None = None) -> None:
        super().__init__(session_key)
        # Not ``client or …``: that would evaluate the middleware's lazy client.
        self.client = client if client is not None else ClientInfo(ip=None, user_agent="")
        self.row: Session | None = None
        self.ended_reason: str | None = None
        self._written_data: str | None = None
        # The user as the sign-in checked them (``open_row``), password hash included.
        self._signing_in: User | None = None

    def decode(self, session_data: str) -> dict:
        """The session's data from the text stored in its row, as Django's ``decode``
        reads it, with the signature check remembered per text."""
        payload = _verified(session_data, self.key_salt)
        if payload is None:
            # Django's answer to a text that fails the check: logged, and no data.
            return super().decode(session_data)
        return self.serializer().loads(payload)

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and len(key) == KEY_LENGTH and set(key) <= _KEY_CHARS

    def _get_new_session_key(self) -> str:
        # 32 characters from 36 give 165 bits: a collision is not a practical
        # event, and the unique index on key_hash would refuse one anyway, so
        # no existence query is spent per new key.
        return get_random_string(KEY_LENGTH, VALID_KEY_CHARS)

    def current_row(self) -> Session | None:
        """The live row behind this cookie, loading it on first use."""
        self._get_session()
        return self.row

    def load(self) -> dict:
        """Load the session's data if its row is live; otherwise start empty.

        A forged, unknown, revoked or expired key is never adopted: the key is
        dropped, and a later save mints a fresh one (session fixation)."""
        self.row = None
        # With its user and account: the request's user is taken from this row
        # (sessions.middleware.AuthenticationMiddleware), so pages need no second query.
        row, failure = browser_session(sha256_hex(self.session_key), timezone.now())
        if failure is not None:
            self.ended_reason = failure
            self._session_key = None
            return {}
        self.row = row
        self._written_data = row.session_data
        return self.decode(row.session_data)

    def exists(self, session_key: str) -> bool:
        """Whether any row, live or ended, has this key."""
        return Session.objects.filter(key_hash=sha256_hex(session_key)).exists()

    def create(self) -> None:
        """Allocate a new key. The row is written by ``save`` once a user signs in."""
        self._session_key = self._get_new_session_key()
        self.row = None
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        """Write the session: insert its row at sign-in, later update only its data.

        Without a signed-in user nothing is written (see the module docstring)."""
        data = self._get_session(no_load=must_create)
        if self.session_key is None:
            self.create()
        encoded = self.encode(data)
        if self.row is None:
            user_id = data.get(SESSION_KEY)
            if user_id is None:
                return
            user = self._signing_in
            if user is None or str(user.pk) != str(user_id):
                # open_session reads the account itself, under its lock.
                user = User.objects.get(pk=user_id)
            self.row = open_session(
                user=user,
                kind=Session.Kind.BROWSER,
                client=self.client,
                now=timezone.now(),
                key_hash=sha256_hex(self.session_key),
                data=encoded,
            )
        elif self._written_data is None or data != self.decode(self._written_data):
            # Compared as data, not as text: the text carries the second it was
            # signed in, so unchanged data encoded a second later reads as new.
            # A session revoked while this request ran stays revoked: the
            # filter skips it instead of writing its data back.
            Session.objects.filter(pk=self.row.pk, revoked_at__isnull=True).update(
                session_data=encoded
            )
            session_cache.forget_row(self.row.pk, self.row.key_hash)
        self._written_data = encoded

    def delete(self, session_key: str | None = None) -> None:
        """Sign this session out (``flush`` calls this on logout)."""
        if session_key is None:
            row = self.row
        else:
            row = Session.objects.filter(key_hash=sha256_hex(session_key)).first()
        if row is not None:
            row.revoke(reason=RevokedReason.LOGOUT, actor=row.user, ip=self.client.ip)
        self.row = None

    def open_row(self, user: User) -> None:
        """Insert the row of the sign-in ``auth.login`` has just made for ``user``, the
        instance whose password was checked: ``open_session`` refuses it
        (CredentialsChanged) if that password has changed since."""
        self._signing_in = user
        try:
            self.save()
        finally:
            self._signing_in = None

    def cycle_key(self) -> None:
        """Give the session a new key, keeping its data (called by ``auth.login``)."""
        data = self._session
        if self.row is None:
            self.create()
        else:
            # Session fixation: the key an attacker may have planted or seen
            # stops matching anything, while the row stays the same session.
            new_key = self._get_new_session_key()
            new_hash = sha256_hex(new_key)
            # The old cookie is refused by every process from now on, cached or not
            # (the key the row holds is read first: another request may have rotated
            # it). In one transaction, so that the invalidation is written after the
            # new key: a request with the old cookie in between cannot cache it anew.
            with transaction.atomic():
                session_cache.forget_row(self.row.pk, self.row.key_hash)
                Session.objects.filter(pk=self.row.pk).update(key_hash=new_hash)
            self.row.key_hash = new_hash
            self._session_key = new_key
            self.modified = True
        self._session_cache = data

    def is_empty(self) -> bool:
        """Empty unless signed in: anonymous data is never stored or sent as a cookie."""
        try:
            return self._session_cache.get(SESSION_KEY) is None
        except AttributeError:
            return self.session_key is None

    def get_expiry_age(self, **kwargs: object) -> int:
        """The cookie's lifetime: the row's remaining life plus a day.

        The browser must still send the cookie after the absolute expiry, so the
        server, not the browser, ends the session and can say why."""
        if self.row is None:
            return super().get_expiry_age(**kwargs)
        remaining = self.row.expire_date - timezone.now() + COOKIE_OUTLIVES_SESSION
        return max(0, int(remaining.total_seconds()))

    @classmethod
    def clear_expired(cls, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
        """Delete the sessions that ended more than ``SESSION_RETENTION_DAYS`` ago, with
        their refresh tokens; how many sessions were deleted.

        A session ended when it was revoked (``revoked_at``) or, if it was never
        presented again after lapsing, at its absolute expiry or idle deadline,
        whichever came first. Live sessions are never touched. Deletes run in
        batches of ``batch_size``, so this is safe from cron while the site serves
        (``purge_sessions`` and Django's ``clearsessions`` call it)."""
        cutoff = timezone.now() - timedelta(days=settings.SESSION_RETENTION_DAYS)
        idle_deadline = ExpressionWrapper(
            F("last_seen_at") + F("idle_timeout"), output_field=DateTimeField()
        )
        # A lapsed row presented again was ended then, with revoked_at set, so its
        # retention runs from that moment, not from when it lapsed.
        revoked_before_cutoff = Q(revoked_at__lt=cutoff)
        lapsed_before_cutoff = Q(revoked_at__isnull=True) & (
            Q(expire_date__lt=cutoff) | Q(idle_deadline__lt=cutoff)
        )
        ended_before_cutoff = Session.objects.alias(idle_deadline=idle_deadline).filter(
            revoked_before_cutoff | lapsed_before_cutoff
        )
        return delete_in_batches(ended_before_cutoff, batch_size=batch_size)
