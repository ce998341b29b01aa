"""``{% device_icon icon %}``: the outline icon of a kind of device, drawn once per kind
and process (sessions/device_icon.html); every session row shows one."""

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def device_icon(icon: str) -> SafeString:
    return _drawn(icon)


# One entry per kind of device (sessions.devices: five of them).
@lru_cache(maxsize=8)
def _drawn(icon: str) -> SafeString:
    return SafeString(get_template("sessions/device_icon.html").render({"icon": icon}))
