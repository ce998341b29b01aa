"""Typed readers for the environment. A bad value fails loudly, naming the fix."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: set it to 1 or 0.")


def envint(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below its minimum of {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above its maximum of {maximum}.")
    return value


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envname(name: str, default: str) -> str:
    """A name the portal writes into what it signs (an issuer, an audience): unset is
    ``default``; blank is refused, since nothing could ever match it."""
    value = os.environ.get(name, default).strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is blank: unset it for the default {default!r}, or name the value."
        )
    return value


def envimport(name: str, default: str) -> str:
    """A dotted path to a class, checked at start: a misspelt one would be imported
    only when first used (a mail backend: when a security e-mail is due)."""
    value = os.environ.get(name, default)
    try:
        import_string(value)
    except ImportError:
        raise ImproperlyConfigured(
            f"{name}={value!r} cannot be imported: name a class by its dotted path, "
            f"such as {default!r}."
        ) from None
    return value


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not known: set it to {' or '.join(choices)}."
        )
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_RATE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}


def envrate(name: str, default: str) -> tuple[int, int]:
    """A rate such as ``60/min`` as (requests, seconds). Units: s, min, h."""
    raw = os.environ.get(name, default).strip()
    count, _, unit = raw.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or unit.strip() not in _RATE_UNITS:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: write it as a number per s, min or h, like 60/min."
        )
    return int(count), _RATE_UNITS[unit.strip()]


def bounded_minutes(prefix: str, default: int, minimum: int, maximum: int) -> tuple[int, int, int]:
    """Read PREFIX_{DEFAULT,MIN,MAX} and check MIN <= DEFAULT <= MAX."""
    low = envint(f"{prefix}_MIN", minimum, minimum=1)
    high = envint(f"{prefix}_MAX", maximum, minimum=1)
    value = envint(f"{prefix}_DEFAULT", default, minimum=1)
    if not low <= value <= high:
        raise ImproperlyConfigured(
            f"{prefix}_DEFAULT={value} must lie between {prefix}_MIN={low} "
            f"and {prefix}_MAX={high}: change one of the three."
        )
    return value, low, high


def envorigin(name: str) -> str:
    """One origin (see envorigins), or "" when unset."""
    origins = envorigins(name)
    if len(origins) > 1:
        raise ImproperlyConfigured(f"{name} holds several origins: name one.")
    return origins[0] if origins else ""


def envorigins(name: str) -> list[str]:
    """Origins such as ``https://portal.example.com``: a scheme and a host (and port),
    nothing after them, as the browser sends them in its Origin header."""
    origins = envlist(name, [])
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise ImproperlyConfigured(
                f"{name} holds {origin!r}, which is not an origin: write each as "
                "https://HOST[:PORT], comma-separated, with no path."
            )
    return origins
