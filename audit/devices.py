"""Recognising a device seen before, and the "This wasn't me" link of a new-device e-mail.

A browser is known by a long-lived signed device cookie; an API client, which
keeps no cookie, by its user agent and network. What is stored is only a keyed
hash of that (``device_key``): a leaked table cannot be turned into a cookie
that passes for a known device.
"""

import uuid
from ipaddress import ip_network

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import get_random_string, salted_hmac

from audit.models import LoginEvent
from securityportal.client import ClientInfo

_COOKIE_SALT = "securityportal.device-cookie"
_KEY_SALT = "securityportal.device-key"
_LINK_SALT = "securityportal.disown-session"


def _cookie_name() -> str:
    # __Host- makes the browser refuse the cookie unless it is Secure, host-only and
    # Path=/, so a sibling subdomain cannot plant a device id (cookie tossing).
    return "__Host-device" if settings.SESSION_COOKIE_SECURE else "device"


def browser_device_id(request: HttpRequest) -> str:
    """The id in the browser's signed device cookie, or a new one for a browser that
    has none (or a forged one); ``remember_device`` then sets it on the response."""
    known = request.get_signed_cookie(_cookie_name(), default=None, salt=_COOKIE_SALT)
    if known:
        return known
    if not getattr(request, "new_device_id", None):
        request.new_device_id = get_random_string(32)
    return request.new_device_id


def remember_device(request: HttpRequest, response: HttpResponse) -> None:
    """Give the browser the device cookie minted for it during this request, if any."""
    new_id = getattr(request, "new_device_id", None)
    if new_id:
        response.set_signed_cookie(
            _cookie_name(),
            new_id,
            salt=_COOKIE_SALT,
            max_age=settings.DEVICE_COOKIE_DAYS * 86400,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def _network(ip: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) around ``ip``: a client on the same network."""
    if ip is None:
        return "-"
    prefix = 24 if ":" not in ip else 48
    return str(ip_network(f"{ip}/{prefix}", strict=False))


def device_key(request: HttpRequest | None, *, channel: str, client: ClientInfo) -> str:
    """The keyed hash that recognises this device for this channel."""
    if channel == "browser" and request is not None:
        material = f"browser:{browser_device_id(request)}"
    else:
        material = f"api:{client.user_agent}|{_network(client.ip)}"
    return salted_hmac(_KEY_SALT, material, algorithm="sha256").hexdigest()


class LinkRefused(Exception):
    """A "This wasn't me" link that is not valid (``code`` "invalid") or too old
    ("expired")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def forget_device_of(session_id: uuid.UUID, user_id: int) -> list[uuid.UUID]:
    """Forget the device ``session_id`` signed in from, for its user: the sign-ins
    that made it known stop vouching for it (their ``device_key`` is cleared). The
    user said that sign-in wasn't them, so the intruder's own first sign-in must not
    make their device a known one: the next sign-in from it is new again, alerted
    and e-mailed. Returns the sessions that device signed in, to be ended too."""
    key = (
        LoginEvent.objects.filter(session_id=session_id, success=True)
        .values_list("device_key", flat=True)
        .first()
    )
    if not key:
        return []
    signed_in = LoginEvent.objects.filter(user_id=user_id, success=True, device_key=key)
    sessions = [found for found in signed_in.values_list("session_id", flat=True) if found]
    signed_in.update(device_key="")
    return sessions


def disown_token(session_id: uuid.UUID) -> str:
    """The signed, timestamped token in a new-device e-mail's "This wasn't me" link."""
    return signing.dumps(str(session_id), salt=_LINK_SALT, compress=False)


def session_of_disown_token(token: str) -> uuid.UUID:
    """The session id a "This wasn't me" token names, or LinkRefused. Forging or
    altering one needs the secret key; it expires after NEW_DEVICE_LINK_HOURS."""
    try:
        value = signing.loads(
            token, salt=_LINK_SALT, max_age=settings.NEW_DEVICE_LINK_HOURS * 3600
        )
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("invalid") from None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise LinkRefused("invalid") from None
