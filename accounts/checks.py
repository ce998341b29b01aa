"""System checks for what Django's own checks cannot see: the portal's own session
store (django.contrib.sessions, which Django's cookie checks look at, is not
installed), its proxy and HTTPS settings, its JWT key and its static files. All run
with ``manage.py check --deploy``."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.checks import CheckMessage, Error, Info, Tags, Warning, register
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.http.request import split_domain_port, validate_host

from securityportal.serving import worker_count

PLAIN_HTTP_HINT = (
    "If the portal really is served over plain HTTP (no TLS anywhere in front of it), "
    "say so with DJANGO_ALLOW_PLAIN_HTTP=1."
)


def _https_expected() -> bool:
    return not getattr(settings, "ALLOW_PLAIN_HTTP", False)


@register(Tags.security, deploy=True)
def shared_counters(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The lockout and rate limits count in the cache; in process memory, each server
    process counts on its own, and N processes give an attacker N times the limit."""
    if not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return []
    workers = worker_count(shared_cache=False)
    if workers > 1:
        return [
            Warning(
                f"The cache is in each process's memory and WEB_CONCURRENCY={workers} "
                "server processes will run, so sign-in lockout and rate-limit counters "
                "are not shared between them.",
                hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), or WEB_CONCURRENCY=1.",
                id="securityportal.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def session_cookie(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The session cookie is the sign-in: readable by script (XSS), sent over plain
    HTTP (sniffing), sent by cross-site posts (CSRF) or plantable from a sibling
    subdomain (session fixation by cookie tossing), it can be stolen or forced."""
    found: list[CheckMessage] = []
    if _https_expected() and not settings.SESSION_COOKIE_SECURE:
        found.append(
            Warning(
                "SESSION_COOKIE_SECURE is off: the session cookie would be sent over "
                "plain HTTP, where anyone on the network can read it.",
                hint=f"Unset SESSION_COOKIE_SECURE (on in production). {PLAIN_HTTP_HINT}",
                id="securityportal.W002",
            )
        )
    if not settings.SESSION_COOKIE_HTTPONLY:
        found.append(
            Warning(
                "SESSION_COOKIE_HTTPONLY is off: a script injected into a page could "
                "read the session cookie and sign in elsewhere.",
                hint="Set SESSION_COOKIE_HTTPONLY = True.",
                id="securityportal.W003",
            )
        )
    if settings.SESSION_COOKIE_SAMESITE not in ("Lax", "Strict"):
        found.append(
            Warning(
                f"SESSION_COOKIE_SAMESITE is {settings.SESSION_COOKIE_SAMESITE!r}: other "
                "sites' forms and requests would carry the session cookie.",
                hint='Set SESSION_COOKIE_SAMESITE = "Lax".',
                id="securityportal.W004",
            )
        )
    found.extend(_host_prefixed("SESSION", settings.SESSION_COOKIE_SECURE))
    found.extend(_host_prefixed("CSRF", settings.CSRF_COOKIE_SECURE))
    return found


def _host_prefixed(kind: str, secure: bool) -> list[CheckMessage]:
    """A Secure cookie named __Host-… is refused by browsers unless it is host-only
    and Path=/; in exchange, no sibling subdomain can set or shadow it."""
    name = getattr(settings, f"{kind}_COOKIE_NAME")
    domain = getattr(settings, f"{kind}_COOKIE_DOMAIN")
    path = getattr(settings, f"{kind}_COOKIE_PATH")
    if name.startswith("__Host-"):
        if not secure or domain or path != "/":
            return [
                Warning(
                    f"{kind}_COOKIE_NAME is {name!r}, but the cookie is not Secure, "
                    "host-only and Path=/: browsers will refuse it, and nobody can "
                    "sign in.",
                    hint=f"Unset {kind}_COOKIE_DOMAIN, set {kind}_COOKIE_PATH = '/' and "
                    f"{kind}_COOKIE_SECURE = True.",
                    id="securityportal.W005",
                )
            ]
        return []
    if _https_expected():
        return [
            Warning(
                f"{kind}_COOKIE_NAME {name!r} has no __Host- prefix: a sibling "
                "subdomain could set this cookie for the portal (cookie tossing).",
                hint=f'Set {kind}_COOKIE_NAME = "__Host-{name}" with the cookie Secure, '
                f"host-only and Path=/. {PLAIN_HTTP_HINT}",
                id="securityportal.W005",
            )
        ]
    return []


KEY_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


@register(Tags.security, deploy=True)
def secret_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """DJANGO_SECRET_KEY signs the session cookie's session, the device cookie and the
    "This wasn't me" links, and (unless JWT_SIGNING_KEY is set) the access tokens: a
    guessable one lets anyone forge them. Django's own check (security.W009, which
    this replaces) only warns; here it stops ``make serve``."""
    key = settings.SECRET_KEY
    if (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        return [
            Error(
                "DJANGO_SECRET_KEY is too short, too repetitive or Django's development "
                "key: whoever guesses it can forge sessions, tokens and links.",
                hint=f"Set at least 50 random characters: {KEY_HINT}",
                id="securityportal.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def jwt_signing_key(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """HS256 with a short key can be brute-forced offline from one token, and then
    any token for any user can be forged."""
    key = settings.JWT_SIGNING_KEY
    if key and len(key) < 32:
        return [
            Error(
                f"JWT_SIGNING_KEY is {len(key)} characters: an access token signed with "
                "it can be cracked offline and tokens forged.",
                hint="Use at least 32 random characters, or unset it to derive the key "
                "from DJANGO_SECRET_KEY.",
                id="securityportal.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def proxy_headers(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Proxies and the header saying the browser used HTTPS come together: the header
    without a proxy is a client's word; a proxy without the header loops on the
    redirect to HTTPS."""
    trusted = settings.TRUSTED_PROXY_COUNT
    header = settings.SECURE_PROXY_SSL_HEADER
    if trusted and not header:
        return [
            Warning(
                f"TRUSTED_PROXY_COUNT is {trusted} but SECURE_PROXY_SSL_HEADER is unset: "
                "behind a proxy that ends TLS every request looks like plain HTTP "
                "(redirect loops, cookies refused).",
                hint="Unset SECURE_PROXY_SSL_HEADER (X-Forwarded-Proto is then believed), "
                "or name the header your proxy sets.",
                id="securityportal.W007",
            )
        ]
    if header and not trusted:
        return [
            Warning(
                f"SECURE_PROXY_SSL_HEADER is set ({header[0]}) but TRUSTED_PROXY_COUNT "
                "is 0: any client can send that header over plain HTTP and be taken "
                "for HTTPS.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of the "
                "portal, or unset SECURE_PROXY_SSL_HEADER.",
                id="securityportal.W007",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def public_url(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Security e-mails link to PUBLIC_URL, or else to the host the request came to,
    which a client chooses among DJANGO_ALLOWED_HOSTS."""
    hosts = settings.ALLOWED_HOSTS
    if settings.PUBLIC_URL:
        # As Django reads a request's host: brackets kept, a trailing dot dropped.
        host, _ = split_domain_port(urlsplit(settings.PUBLIC_URL).netloc)
        if validate_host(host, hosts):
            return []
        return [
            Warning(
                f"PUBLIC_URL ({settings.PUBLIC_URL}) names a host DJANGO_ALLOWED_HOSTS "
                "does not: the links of security e-mails would lead where the portal "
                "does not answer.",
                hint="Set PUBLIC_URL to the portal's address, one of DJANGO_ALLOWED_HOSTS.",
                id="securityportal.W010",
            )
        ]
    if len(hosts) > 1 or any(host.startswith(".") for host in hosts):
        return [
            Warning(
                "PUBLIC_URL is unset and DJANGO_ALLOWED_HOSTS names several hosts: a "
                "security e-mail's link points to whichever of them the request that "
                "sent it named, which an intruder signing in chooses.",
                hint="Set PUBLIC_URL to the portal's address, such as https://portal.example.com.",
                id="securityportal.W010",
            )
        ]
    return []


# Mail backends that never deliver: they write the message on this machine (its log,
# its disk), keep it in memory, or drop it.
_MAIL_KEPT_HERE = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
)


@register(Tags.security, deploy=True)
def mail_kept_here(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A new-device e-mail carries a one-click link that signs a session out: written
    to the log or a file, it is readable by whoever reads those."""
    if settings.EMAIL_BACKEND in _MAIL_KEPT_HERE:
        return [
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: security e-mails are never "
                "sent (users never hear of a new device or a password change), and the "
                "console or a file keeps their one-click sign-out links on this machine.",
                hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend "
                "and EMAIL_HOST (docs/DEPLOY.md).",
                id="securityportal.W006",
            )
        ]
    return []


@register(Tags.staticfiles, deploy=True)
def static_manifest(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without collectstatic, pages link to files no process serves in production."""
    has_manifest = getattr(staticfiles_storage, "has_manifest", None)
    if has_manifest is not None and not has_manifest():
        return [
            Warning(
                f"No collected static files in {settings.STATIC_ROOT}: pages would load "
                "without their stylesheet and scripts.",
                hint="Run manage.py collectstatic --noinput (make serve does).",
                id="securityportal.W008",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def https_only(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """HTTPS is the default in production; serving without it is a visible choice."""
    if not _https_expected():
        return [
            Info(
                "DJANGO_ALLOW_PLAIN_HTTP is on: no redirect to HTTPS, no HSTS, cookies "
                "without Secure. Passwords and session cookies cross the network in "
                "clear text.",
                id="securityportal.I001",
            )
        ]
    off = [
        name
        for name, value in (
            ("SECURE_SSL_REDIRECT", settings.SECURE_SSL_REDIRECT),
            ("SECURE_HSTS_SECONDS", settings.SECURE_HSTS_SECONDS),
        )
        if not value
    ]
    if off:
        return [
            Warning(
                f"{' and '.join(off)} off: a browser's plain-HTTP request is answered "
                "in clear text, where a network attacker can strip TLS from the visit.",
                hint=f"Unset {' and '.join(off)} (on in production). {PLAIN_HTTP_HINT}",
                id="securityportal.W009",
            )
        ]
    return []
