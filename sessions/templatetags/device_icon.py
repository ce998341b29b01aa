"""``{% device_icon icon %}``: the outline icon of a kind of device, drawn once per kind
and process (sessions/device_icon.html); every session row shows one."""

from django import template
from django.utils.safestring import SafeString

from securityportal.fragments import drawn_once

register = template.Library()

# One entry per kind of device (sessions.devices: five of them).
_icon = drawn_once("sessions/device_icon.html", kept=8)


@register.simple_tag
def device_icon(icon: str) -> SafeString:
    return _icon(icon=icon)
