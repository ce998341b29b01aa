"""``{% sign_in_chart chart heading=… whose=… %}``: the sign-in chart card, drawn once
per chart.

The card is a pure function of its chart's thirty days, its two texts and the
language: nothing of the request (no CSRF token, no nonce, no time) reaches it. Its
thirty bars and thirty table rows were half of the security page's template time, so
a process keeps the cards it drew last, keyed by everything they are drawn from. A
new sign-in changes today's count, hence the key; a card is never stale, only
redrawn. Two users whose charts are equal share an entry: the card shows nothing
that is not in its key."""

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from audit.chart import SignInChart

register = template.Library()

# About 12 KiB a card: a few megabytes at most per process.
CARDS_KEPT = 256


@register.simple_tag
def sign_in_chart(chart: SignInChart, *, heading: str, whose: str) -> SafeString:
    return _card(chart, heading, whose, get_language())


@lru_cache(maxsize=CARDS_KEPT)
def _card(chart: SignInChart, heading: str, whose: str, language: str | None) -> SafeString:
    # The language is part of the key only: the active one is what the card renders in.
    context = {"chart": chart, "heading": heading, "whose": whose}
    return SafeString(get_template("audit/sign_in_chart.html").render(context))
