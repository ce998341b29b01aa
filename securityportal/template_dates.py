"""``|date``: Django's filter, remembering what it wrote. A template builtin
(settings.TEMPLATES), so it is the ``date`` filter of every template.

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
from datetime import tzinfo
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.utils import translation

register = template.Library()

FORMATTED_REMEMBERED = 4096


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
