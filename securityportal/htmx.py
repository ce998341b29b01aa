"""What an HTMX request says about the page behind it."""

from django.http import HttpRequest


def current_page_path(request: HttpRequest) -> str | None:
    """The path and query of the page an HTMX request was sent from (its
    HX-Current-URL), or None when that is another site's or not a URL at all.

    The header is the client's to write: django-htmx splits it with urllib, which
    raises on a malformed address (``http://[``), and such a request must get the
    answer it would get without the header, not a server error."""
    try:
        return request.htmx.current_url_abs_path
    except ValueError:
        return None
