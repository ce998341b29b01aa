"""``{% sign_in_chart chart heading=… whose=… %}``: the sign-in chart card, drawn once
per chart.

The card is a pure function of its chart's thirty days, its two texts and the
language: nothing of the request (no CSRF token, no nonce, no time) reaches it. Its
thirty bars and thirty table rows were half of the security page's template time, so
a process keeps the cards it drew last, keyed by everything they are drawn from. A
new sign-in changes today's count, hence the key; a card is never stale, only
redrawn. Two users whose charts are equal share an entry: the card shows nothing
that is not in its key."""

from django import template
from django.utils.safestring import SafeString

from audit.chart import SignInChart
from securityportal.fragments import drawn_once

register = template.Library()

# A card (about 12 KiB) and the chart it was drawn from (30 days and their bars): a
# few megabytes at most per process.
CARDS_KEPT = 256

_card = drawn_once("audit/sign_in_chart.html", kept=CARDS_KEPT)


@register.simple_tag
def sign_in_chart(chart: SignInChart, *, heading: str, whose: str) -> SafeString:
    return _card(chart=chart, heading=heading, whose=whose)
