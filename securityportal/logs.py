"""Log lines that say which request wrote them.

Every request gets an id, returned in its ``X-Request-ID`` header and carried by
every log line written while it is handled, with the user's id and the public id
of the session behind it (never its key or a token). One access line per request
gives method, path, status and duration. ``LOG_FORMAT=json`` writes each line as
one JSON object; the default is plain text."""

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# What a proxy's id may look like: UUIDs, hex, ULIDs, nginx's $request_id. Anything
# else is replaced, so a forged header cannot smuggle line breaks or markup into a
# log line (log injection) or grow every line by kilobytes.
_INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Control characters in a path would let a crafted URL start a fake line in a plain
# text log (log injection); JSON escapes them by itself.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# A path segment this long is a token, not a name: the "This wasn't me" link
# (/sessions/disown/<signed token>/) signs a session out, so whoever reads the log
# could use it. Judged by shape, not by the URL pattern, so a path that never reaches
# a view (redirected to HTTPS, 404) is redacted too. Session ids (UUIDs, 36
# characters) stay readable.
_TOKEN_SEGMENT = re.compile(r"[^/]{40,}")
CONTEXT_FIELDS = ("request_id", "user_id", "session_id")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
access_log = logging.getLogger("securityportal.access")


class RequestIdMiddleware:
    """Give the request its id, make it the context of every log line until the
    response is closed, answer with it in ``X-Request-ID``, and write the access line.

    First in MIDDLEWARE, so that redirects and refusals of later middleware are
    logged with an id too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = _request_id(request)
        _current_request.set(request)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        if not access_log.isEnabledFor(logging.INFO):
            return response
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = loggable_path(request.path)
        access_log.info(
            "%s %s %s %sms",
            request.method,
            printable(path),
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


@receiver(request_finished)
def _end_request_context(**kwargs: Any) -> None:
    # Not at the end of the middleware: Django logs 4xx answers after every
    # middleware has returned, and those lines belong to the request too.
    _current_request.set(None)


def _request_id(request: HttpRequest) -> str:
    # A client could pick its own id to collide with another request's; only our
    # own proxies, which set or overwrite the header, are believed. Read from META:
    # request.headers would copy every header of every request to find this one.
    if settings.TRUSTED_PROXY_COUNT:
        incoming = request.META.get(_REQUEST_ID_META, "")
        if _INCOMING_REQUEST_ID.fullmatch(incoming):
            return incoming
    # 128 random bits in 32 hex digits, as uuid4().hex wrote them, for a third of
    # its cost.
    return secrets.token_hex(16)


def printable(text: str) -> str:
    """``text`` with its control characters written as "?", for a plain-text line: a
    line break in a crafted URL would start a forged line (log injection)."""
    return _CONTROL_CHARACTERS.sub("?", text)


def loggable_path(path: str) -> str:
    """``path`` (without its query string) with every token-like segment replaced by
    ``[redacted]``: the one rule for the portal's access line and gunicorn's."""
    return _TOKEN_SEGMENT.sub("[redacted]", path)


def _session_row(request: HttpRequest) -> Any:
    """The session behind the request, without a query: the API's (DRF puts it in
    ``request.auth``) or the browser's, once the store has loaded its row."""
    api_session = getattr(request, "auth", None)
    if api_session is not None:
        return api_session
    return getattr(getattr(request, "session", None), "row", None)


class RequestContextFilter(logging.Filter):
    """Stamp each record with the request being handled: its id, the user's id and
    the session's public id, and hide the tokens of its path wherever the record
    quotes it. Outside a request the record is left as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current_request.get()
        if request is None:
            return True
        _redact_path(record, request.path)
        record.request_id = request.request_id
        row = _session_row(request)
        if row is not None:
            record.user_id = row.user_id
            record.session_id = str(row.pk)
        return True


def _redact_path(record: logging.LogRecord, path: str) -> None:
    """Django's own lines quote the raw path: "Not Found: …", "Method Not Allowed
    (PUT): …", "Forbidden (CSRF token missing.): …". A "This wasn't me" link refused
    that way (a browser without its CSRF cookie) would put a working sign-out link in
    front of whoever reads the log. Django escapes the path of its response lines
    first (``\\xe9`` for é, ``\\\\`` for a backslash), so that form is looked for too."""
    if loggable_path(path) == path:
        return
    escaped = path.encode("unicode_escape").decode("ascii")
    hidden = {form: loggable_path(form) for form in (path, escaped)}
    if isinstance(record.args, tuple):
        record.args = tuple(
            hidden.get(arg, arg) if isinstance(arg, str) else arg for arg in record.args
        )
    if isinstance(record.msg, str):
        for form, redacted in hidden.items():
            record.msg = record.msg.replace(form, redacted)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line. Only the fields named here are written, never the
    record's other attributes (django.request attaches the whole request)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({field: getattr(record, field, None) for field in CONTEXT_FIELDS})
        line.update({f: getattr(record, f) for f in ACCESS_FIELDS if hasattr(record, f)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def console_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """The handler every log line goes through: request context, then plain text or
    JSON lines (``log_format`` "plain" or "json"), on standard error by default."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonLinesFormatter())
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT, defaults={"request_id": "-"}))
    return handler
