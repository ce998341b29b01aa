"""Who is on the other end of a request: client IP and a readable device label, and the
columns that record them on a session or a sign-in event."""

import re
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import ip_address
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from user_agents import parse
from user_agents.parsers import UserAgent

_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
_GENERIC_DEVICES = {"Other", "Generic Smartphone", "Generic Tablet", "Generic Feature Phone"}


def _valid_ip(value: str) -> str | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4 client as a dual-stack listener or a proxy writes it (::ffff:a.b.c.d) is
    # that IPv4 address: as IPv6, every IPv4 client would share one network's limits.
    return str(getattr(address, "ipv4_mapped", None) or address)


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


# "acme-cli/2.3 (linux)": a client's own name and version, as RFC 9110 asks clients to
# send. "Mozilla/5.0" is every browser's compatibility token, never a product's name.
_PRODUCT_TOKEN = re.compile(r"(?P<name>[A-Za-z][\w.+-]{0,39})/(?P<version>\d{1,6}(?:\.\d{1,6})?)")


@lru_cache(maxsize=1024)
def parse_user_agent(user_agent: str) -> UserAgent:
    """user-agents' reading of ``user_agent``, parsed once per process per distinct value:
    a page of twenty sessions from the same browser parses it once, not twenty times."""
    return parse(user_agent)


def product_token(user_agent: str) -> str | None:
    """ "acme-cli 2.3" for "acme-cli/2.3 (linux)"; None when the header starts with no
    product token of its own."""
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    if match is None or match["name"].lower() == "mozilla":
        return None
    return f"{match['name']} {match['version']}"


def describe_device(user_agent: str) -> str:
    """A short label such as "Chrome 131 on macOS", "Mobile Safari 17 on iPhone", or, for
    a client user-agents does not know, its product token ("acme-cli 2.3")."""
    if not user_agent:
        return "Unknown device"
    parsed = parse_user_agent(user_agent)
    browser = parsed.browser.family
    if browser == "Other":
        return product_token(user_agent) or "Unknown device"
    major = parsed.browser.version[0] if parsed.browser.version else None
    name = f"{browser} {major}" if major is not None else browser
    device = parsed.device.family
    if (parsed.is_mobile or parsed.is_tablet) and device not in _GENERIC_DEVICES:
        return f"{name} on {device}"
    system = parsed.os.family
    if system == "Other":
        return name
    return f"{name} on {_OS_NAMES.get(system, system)}"


# A family name as user-agents' own lists write them ("Chrome Mobile", "Mac OS X").
_FAMILY = re.compile(r"[A-Za-z][A-Za-z0-9 ]{0,30}\Z")
UNRECOGNISED = "An app or browser that is not recognised"


def recognised_device(user_agent: str) -> str:
    """The browser and the operating system user-agents recognises ("Chrome Mobile 120
    on Android"), for a security e-mail: never the text a client wrote itself (a
    phone's model name, an app's product token), which an intruder would fill with a
    phone number or an address to write their own lines into a genuine e-mail."""
    parsed = parse_user_agent(user_agent)
    browser, system = parsed.browser.family, parsed.os.family
    # A crawler's family is whatever name it gave itself ("... bot/1.0").
    if parsed.is_bot or browser == "Other" or not _FAMILY.match(browser):
        return UNRECOGNISED
    major = parsed.browser.version[0] if parsed.browser.version else None
    name = f"{browser} {major}" if isinstance(major, int) else browser
    if system == "Other" or not _FAMILY.match(system):
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
