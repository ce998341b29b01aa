"""Development only (DEBUG, ``make run``): Django's technical error pages, which style
and script themselves inline, readable under the strict Content-Security-Policy.

django-csp leaves a DEBUG answer of status 404 or 500 without a policy; Django also
renders its traceback page at 400 (a SuspiciousOperation, such as too many form
fields), which would then arrive unstyled with its buttons dead. Only the pages
Django's exception reporter rendered lose the policy; every other page of
``make run`` keeps it, so an inline script or style added to a template fails there
as it would in production. Neither class is installed unless DEBUG is on."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views import debug

# Set on a request whose answer is Django's traceback page.
TECHNICAL_PAGE = "_technical_error_page"


class ExceptionReporter(debug.ExceptionReporter):
    """Django's reporter, which also marks the request it rendered a page for."""

    def get_traceback_html(self) -> str:
        if self.request is not None:
            setattr(self.request, TECHNICAL_PAGE, True)
        return super().get_traceback_html()


class TechnicalErrorPageMiddleware:
    """Outside the CSP middleware: takes the policy off the traceback page alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, TECHNICAL_PAGE, False):
            del response["Content-Security-Policy"]
        return response
