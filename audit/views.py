"""The Recent activity card: a user's own sign-ins, a page at a time."""

from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.activity import Cursor, sign_ins_of

PAGE_SIZE = 10
ROWS_PARTIAL = "audit/activity_card.html#activity-rows"


def activity_context(request: HttpRequest, after: Cursor | None = None) -> dict[str, Any]:
    """What the Recent activity card renders: one page of the user's sign-ins."""
    page = sign_ins_of(request.user, limit=PAGE_SIZE, after=after)
    return {"login_events": page.events, "activity_next": page.next}


@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    """Older sign-ins: the rows for "Load more" (HTMX), or a page of their own."""
    after = None
    if "after" in request.GET:
        try:
            after = Cursor.parse(request.GET["after"])
        except ValueError:
            raise BadRequest("That page of activity does not exist.") from None
    context = activity_context(request, after)
    if request.htmx:
        return render(request, ROWS_PARTIAL, context)
    return render(request, "audit/activity_page.html", context)
