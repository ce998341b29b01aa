"""How a session's device reads wherever it is shown: a label ("Chrome 131 on macOS",
"acme-cli 2.3") and the kind of device behind it (desktop, phone, tablet, API client,
unknown) for an icon and its text.

The page, the API (``GET /api/auth/sessions``, field ``device``) and the sign-out
confirmations all call ``device_of``, so they never name one session two ways. Each
distinct user agent is read once per process."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from securityportal.client import describe_device, parse_user_agent
from sessions.models import Session


@dataclass(frozen=True)
class DeviceType:
    icon: str  # the name of the template's SVG symbol
    text: str  # what the icon says, for screen readers and as its tooltip


DESKTOP = DeviceType("desktop", "Computer")
PHONE = DeviceType("phone", "Phone")
TABLET = DeviceType("tablet", "Tablet")
API_CLIENT = DeviceType("api", "API client")
UNKNOWN = DeviceType("unknown", "Unknown kind of device")


@dataclass(frozen=True)
class Device:
    label: str
    type: DeviceType


def device_type(user_agent: str, kind: str) -> DeviceType:
    """An API session is an API client whatever it claims to run on; a browser is a
    tablet, phone or computer as its user agent says, and unknown when it says none."""
    if kind == Session.Kind.API:
        return API_CLIENT
    if not user_agent:
        return UNKNOWN
    parsed = parse_user_agent(user_agent)
    if parsed.is_tablet:
        return TABLET
    if parsed.is_mobile:
        return PHONE
    if parsed.is_pc:
        return DESKTOP
    return UNKNOWN


def device_of(session: Session) -> Device:
    """The label and type of ``session``'s device, from its user agent and kind."""
    return _device(session.user_agent, session.kind)


# Per process, per distinct user agent: user-agents' is_tablet / is_mobile / is_pc
# re-examine the parse on every call, and a list holds many rows of one browser.
@lru_cache(maxsize=1024)
def _device(user_agent: str, kind: str) -> Device:
    return Device(label=describe_device(user_agent), type=device_type(user_agent, kind))


def current_first(sessions: Iterable[Session], current: Session | None) -> list[Session]:
    """``sessions`` in their order, except that ``current`` comes first: "This device"
    stays at the top however recently the others were active."""
    ordered = list(sessions)
    ordered.sort(key=lambda session: current is None or session.pk != current.pk)
    return ordered
