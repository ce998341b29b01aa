"""``|date``: Django's filter, remembering what it wrote; ``{% relative_time %}`` and
``{% exact_time %}``: the two ways a page writes a moment as a ``<time>`` element, and
``|exact``, the exact one as text. A template builtin (settings.TEMPLATES), so they
are in every template.

Formatting a datetime walks Django's format machinery (the time zone, the language's
month names, the format string letter by letter). The security page did that over a
hundred times a view, for a few timestamps each shown several ways (a session's
times in the row, its title and its details; the chart's 30 days, three ways each),
the same ones on every view. What the filter writes depends only on the value, its
time zone (a datetime's; a date has none), the format and the language, which
together are the key; anything but a date or datetime goes straight to Django's
filter."""

import functools
from datetime import date as Date
from datetime import datetime, tzinfo
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime

register = template.Library()

FORMATTED_REMEMBERED = 4096
# A moment to the second, with its zone: "7 Dec 2026, 09:30:00 UTC".
EXACT = "j M Y, H:i:s e"


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    if not isinstance(value, Date):
        return defaultfilters.date(value, arg)
    # The time zone is part of the key: datetimes of one instant in two zones are
    # equal (and hash alike) but are written differently.
    return _formatted(value, getattr(value, "tzinfo", None), arg, translation.get_language())


@functools.lru_cache(maxsize=FORMATTED_REMEMBERED)
def _formatted(value: Date, zone: tzinfo | None, arg: str | None, language: str | None) -> str:
    return defaultfilters.date(value, arg)


@receiver(setting_changed)
def _forget_formatted(**kwargs: Any) -> None:
    # Named formats (DATE_FORMAT, …) and the time zone are settings; tests change them.
    _formatted.cache_clear()


@register.filter(expects_localtime=True, is_safe=False)
def exact(value: datetime) -> str:
    """``value`` written out to the second, with its zone, as text (a label, a title)."""
    return date(value, EXACT)


@register.simple_tag
def relative_time(value: datetime) -> SafeString:
    """``value`` as how long ago it was ("3 minutes ago"), with the exact moment as the
    element's tooltip; portal.js keeps the words current (``data-relative``)."""
    local = template_localtime(value)
    return format_html(
        '<time datetime="{}" title="{}" data-relative>{}</time>',
        date(local, "c"),
        date(local, EXACT),
        naturaltime(local),
    )


@register.simple_tag
def exact_time(value: datetime) -> SafeString:
    """``value`` written out to the second, with its zone."""
    local = template_localtime(value)
    return format_html('<time datetime="{}">{}</time>', date(local, "c"), date(local, EXACT))
