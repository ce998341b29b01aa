"""The project's routes plus views that fail on purpose, for the error page tests:
nothing in the product itself answers 500 or refuses for rate outside sign-in."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from securityportal.errors import TooManyRequests
from securityportal.urls import handler400, handler403, handler404, handler500, urlpatterns


@login_not_required
def broken(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug in a view")


@login_not_required
def database_error(request: HttpRequest) -> HttpResponse:
    # A real error from the real database, not a stand-in for one.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM a_table_that_does_not_exist")
    return HttpResponse()


@login_not_required
def rate_limited(request: HttpRequest) -> HttpResponse:
    retry_after = request.GET.get("retry_after")
    raise TooManyRequests(int(retry_after) if retry_after else None)


@login_not_required
@require_POST
def post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


# Each failure once as a page and once under /api/.
urlpatterns = [
    *(
        path(f"{prefix}test-errors/{name}/", view)
        for prefix in ("", "api/")
        for name, view in [
            ("broken", broken),
            ("database-error", database_error),
            ("rate-limited", rate_limited),
            ("post-only", post_only),
        ]
    ),
    *urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
