"""Who is on the other end of a request: client IP and a readable device label, and the
columns that record them on a session or a sign-in event."""

from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from user_agents import parse

_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
_GENERIC_DEVICES = {"Other", "Generic Smartphone", "Generic Tablet", "Generic Feature Phone"}


def _valid_ip(value: str) -> str | None:
    try:
        return str(ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies vouch for.

    IP spoofing: X-Forwarded-For is client-writable; only the entries appended
    by our own proxies (counted from the right) are believed."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _valid_ip(hops[-proxies]) or remote


def describe_device(user_agent: str) -> str:
    """A short label such as "Chrome 131 on macOS" or "Mobile Safari 17 on iPhone"."""
    if not user_agent:
        return "Unknown device"
    parsed = parse(user_agent)
    browser = parsed.browser.family
    if browser == "Other":
        return "Unknown device"
    major = parsed.browser.version[0] if parsed.browser.version else None
    name = f"{browser} {major}" if major is not None else browser
    device = parsed.device.family
    if (parsed.is_mobile or parsed.is_tablet) and device not in _GENERIC_DEVICES:
        return f"{name} on {device}"
    system = parsed.os.family
    if system == "Other":
        return name
    return f"{name} on {_OS_NAMES.get(system, system)}"


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> "ClientInfo":
        # Bounded before parsing: a megabyte header must not reach the parser. NUL
        # bytes go: PostgreSQL text cannot hold them, and the insert would fail.
        user_agent = request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")
        user_agent = user_agent[: ClientColumns.USER_AGENT_MAX]
        return cls(ip=client_ip(request), user_agent=user_agent)

    @property
    def device(self) -> str:
        return describe_device(self.user_agent)


class ClientColumns(models.Model):
    """The client facts a Session and a LoginEvent both record."""

    USER_AGENT_MAX = 512
    DEVICE_MAX = 128

    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX, blank=True)
    device = models.CharField(max_length=DEVICE_MAX, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def columns_for(cls, client: ClientInfo) -> dict[str, Any]:
        """The column values for ``client``, each cut to its column: the parser copies
        model names from the client's own header, so a crafted user agent could
        otherwise overflow the device column."""
        return {
            "ip": client.ip,
            "user_agent": client.user_agent[: cls.USER_AGENT_MAX],
            "device": client.device[: cls.DEVICE_MAX],
        }
