"""``{% session_banner %}``: the expiry banner of every signed-in page, drawn on the
server so it is right from the first paint, then kept current by its own polls."""

from typing import Any

from django import template

from sessions.banner import banner_context

register = template.Library()


@register.inclusion_tag("sessions/expiry_banner_region.html", takes_context=True)
def session_banner(context: template.Context) -> dict[str, Any]:
    # A page rendered without the request (or outside the session middleware) has
    # no session row to draw from.
    request = context.get("request")
    if not hasattr(getattr(request, "session", None), "current_row"):
        return {"banner": None}
    return banner_context(request)
