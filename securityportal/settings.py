"""Settings for Security Portal. Every knob an operator may turn is read here, from the
environment, through the typed helpers in ``securityportal.env``."""

import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from securityportal.env import (
    bounded_minutes,
    envbool,
    envchoice,
    envimport,
    envint,
    envlist,
    envname,
    envorigin,
    envorigins,
    envrate,
    envstr,
)
from securityportal.secret_key import development_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = envstr("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: export a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"), '
            "or set DJANGO_DEBUG=1 for local development."
        )
    # Development: a random key made once for this checkout (git-ignored, mode 0600).
    SECRET_KEY = development_secret_key(BASE_DIR / ".secret_key")
# Key rotation: the previous key(s), comma-separated, still verify what they signed
# (sessions, the device cookie, "This wasn't me" links) while new signatures use
# DJANGO_SECRET_KEY. Drop them once the longest-lived of those has expired.
SECRET_KEY_FALLBACKS = envlist("DJANGO_SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must name the hosts the portal answers for, not '*' "
        "(a wildcard lets forged Host headers poison password-reset and e-mail links)."
    )

# HTTPS. In production every request is sent to HTTPS and browsers are told (HSTS)
# to use nothing else for a year, so a network attacker cannot strip TLS from a
# later first request or read the cookies. A deployment really served over plain
# HTTP (no certificate anywhere) says so with DJANGO_ALLOW_PLAIN_HTTP=1: no
# redirect, no HSTS, cookies without Secure. DEBUG (make run) is plain HTTP too.
ALLOW_PLAIN_HTTP = envbool("DJANGO_ALLOW_PLAIN_HTTP", False)
HTTPS_ONLY = not DEBUG and not ALLOW_PLAIN_HTTP
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
# Load balancers and orchestrators probe each process directly over plain HTTP
# (TLS ends in front of it): redirected, every probe would fail.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0)
# Opt-in: includeSubDomains forces HTTPS on every host under this one, and preload
# is a promise shipped inside browsers, slow to take back.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
if SECURE_HSTS_PRELOAD and not (
    SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_SECONDS >= 31_536_000
):
    raise ImproperlyConfigured(
        "SECURE_HSTS_PRELOAD=1 also needs SECURE_HSTS_INCLUDE_SUBDOMAINS=1 and "
        "SECURE_HSTS_SECONDS of at least 31536000 (a year): the preload list refuses less."
    )
# Django's deploy check warns of the two opt-ins left off (W005, W021): that is the
# decision above. With DJANGO_ALLOW_PLAIN_HTTP=1 its warnings about the redirect,
# HSTS and the CSRF cookie's Secure flag are what the operator chose; our own check
# still reports the choice (securityportal.I001) so it stays visible.
SILENCED_SYSTEM_CHECKS = [
    # Replaced by securityportal.E001, which stops the start instead of warning.
    "security.W009",
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    *(["security.W004", "security.W008", "security.W016"] if ALLOW_PLAIN_HTTP else []),
]

INSTALLED_APPS = [
    # django.contrib.admin, with the portal's site: sign-in through /login/, members
    # refused. django.contrib.sessions is deliberately absent (SESSION_ENGINE below).
    "securityportal.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "accounts",
    "sessions.apps.SessionsConfig",
    "audit",
]

MIDDLEWARE = [
    # First: every answer, even a refusal by the middleware below, gets a request id.
    "securityportal.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The answer's protections before anything that may refuse the request, so a
    # refusal (a forged Host's 400, a CSRF 403) is framed, scripted and stored no more
    # than a page is (clickjacking, injection, a shared cache keeping it). Static
    # files, answered by WhiteNoise above, keep their own long cache headers. One
    # refusal comes from above: with SECURE_SSL_REDIRECT, a plain-HTTP request with a
    # forged Host is refused by SecurityMiddleware's redirect, as Django's plain 400.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the policy built once per process.
    "securityportal.middleware.ContentSecurityPolicyMiddleware",
    "securityportal.middleware.NoStoreMiddleware",
    # Under the answer's protections (a 413 is stored no more than any answer), and
    # above everything that might read the body.
    "securityportal.errors.BodySizeLimitMiddleware",
    "sessions.middleware.SessionMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "sessions.middleware.AuthenticationMiddleware",
    "sessions.middleware.SessionValidationMiddleware",
    "sessions.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last: the 405 and 429 pages it makes pass through every middleware above.
    "securityportal.errors.ErrorPageMiddleware",
]

ROOT_URLCONF = "securityportal.urls"
WSGI_APPLICATION = "securityportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
            # |date remembers what it wrote (the security page formats the same
            # timestamps on every view): securityportal.template_dates.
            "builtins": ["securityportal.template_dates"],
        },
    },
]

# Database: embedded SQLite by default, PostgreSQL (or any URL dj-database-url reads)
# through DATABASE_URL.
# Concurrent requests on SQLite: WAL lets readers run beside the writer; BEGIN
# IMMEDIATE takes the write lock up front, so two transactions never deadlock
# upgrading a read lock; the busy timeout makes a writer wait instead of failing
# with "database is locked". Applied however SQLite is named, SQLITE_PATH or
# DATABASE_URL=sqlite:///…, so neither spelling serves 500s under load.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;",
}
DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    except ValueError as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL ({error}); write it as "
            "postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:////ABSOLUTE/PATH."
        ) from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # An option written into the URL (sqlite:///…?timeout=60) is deliberate: it wins.
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
else:
    # A server database costs a connection handshake (and TLS, authentication) per
    # request without reuse; opening a SQLite file costs next to nothing. Not under
    # runserver or DEBUG: runserver answers each request in a new thread, and a kept
    # connection outlives its thread, so they pile up until the server refuses more.
    RUNSERVER = sys.argv[1:2] == ["runserver"]
    DATABASES["default"]["CONN_MAX_AGE"] = envint(
        "CONN_MAX_AGE", 0 if DEBUG or RUNSERVER else 60, minimum=0
    )
    # A kept connection the database has since closed is reopened, not a 500.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that drops packets (rather than refusing them) must not hold
    # every request, and /readyz, for the operating system's TCP timeout of minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", envint("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
    )
    # Prepared statements: once a connection has run a statement five times,
    # PostgreSQL keeps it parsed and planned instead of doing both on every run. The
    # session lookup of every signed-in request joins three tables; unprepared it cost
    # the server four times what it costs prepared. Preparing needs the parameters sent
    # apart from the statement (server-side binding). Off
    # (DATABASE_PREPARED_STATEMENTS=0) behind a pooler that cannot keep a connection's
    # statements: PgBouncer in transaction mode before 1.22, or with
    # max_prepared_statements = 0. Options written into the URL win, as above.
    postgresql = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
    if postgresql and envbool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL", "")
_REDIS_SCHEME, _REDIS_SEPARATOR, _ = REDIS_URL.partition("://")
if REDIS_URL and (not _REDIS_SEPARATOR or _REDIS_SCHEME not in ("redis", "rediss", "unix")):
    # Only the scheme is repeated: the rest of the URL may hold a password.
    _found = f"{_REDIS_SCHEME}://…" if _REDIS_SEPARATOR else "a URL without a scheme"
    raise ImproperlyConfigured(
        f"REDIS_URL={_found} is not a Redis address: write redis://host:6379/0, "
        "rediss:// for TLS, or unix:///path/to/redis.sock."
    )
# How long a signed-in request's session may be answered from Redis (sessions.cache)
# without reading its row. Revokes reach every process at once regardless; this
# bounds how long one could be missed if Redis was unreachable when it happened.
SESSION_CACHE_SECONDS = envint("SESSION_CACHE_SECONDS", 60, minimum=1)
if REDIS_URL:
    # A Redis that hangs would hang every request behind it: a request that cannot
    # reach it within this long reads the database instead (sessions) or fails.
    REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    CACHES = {
        "default": {
            "BACKEND": "securityportal.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
        },
        # Validated sessions of signed-in requests: a signed-in request on a hit
        # costs no SQL. Only with Redis, which every process shares: a cache in
        # process memory could not be told that another process revoked a session.
        "sessions": {
            "BACKEND": "securityportal.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
            "TIMEOUT": SESSION_CACHE_SECONDS,
        },
        # The sign-in charts' counts of days that have ended (audit.chart).
        "charts": {
            "BACKEND": "securityportal.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Apart from the default, which holds the sign-in lockout counters: one entry
        # per account and per user that looks at its chart must never evict those.
        "charts": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "charts",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
    }

# Authentication
AUTH_USER_MODEL = "accounts.User"
# Django's own backend: User.objects.get_by_natural_key takes a username or an e-mail.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "security"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",  # cost 12
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: this project's store; rows in user_sessions.Session.
SESSION_ENGINE = "sessions.store"
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", HTTPS_ONLY)
# __Host- makes the browser refuse the cookie unless it is Secure, host-only and
# Path=/, so a sibling subdomain cannot plant a session cookie (cookie tossing).
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The same prefix for the CSRF cookie: a sibling subdomain that could set it could
# pair its own token with a forged form (CSRF by cookie tossing). Pages send the
# token from the page (hx-headers, the form field), never read from this cookie.
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
CSRF_COOKIE_PATH = "/"
CSRF_COOKIE_SAMESITE = "Lax"
# Origins (https://HOST) besides this host's own whose forms may post here, e.g. a
# sign-in form on the marketing site. Empty: same origin only.
CSRF_TRUSTED_ORIGINS = envorigins("CSRF_TRUSTED_ORIGINS")
# Where security e-mails' links point (https://portal.example.com). Unset, a link names
# the host the request that caused it came to: with several DJANGO_ALLOWED_HOSTS, the
# sender's pick (check --deploy warns, securityportal.W010).
PUBLIC_URL = envorigin("PUBLIC_URL")
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

SESSION_IDLE_MINUTES_DEFAULT, SESSION_IDLE_MINUTES_MIN, SESSION_IDLE_MINUTES_MAX = bounded_minutes(
    "SESSION_IDLE_MINUTES", 60, 5, 43200
)
(
    SESSION_ABSOLUTE_MINUTES_DEFAULT,
    SESSION_ABSOLUTE_MINUTES_MIN,
    SESSION_ABSOLUTE_MINUTES_MAX,
) = bounded_minutes("SESSION_ABSOLUTE_MINUTES", 10080, 15, 129600)
if SESSION_IDLE_MINUTES_DEFAULT > SESSION_ABSOLUTE_MINUTES_DEFAULT:
    raise ImproperlyConfigured(
        "SESSION_IDLE_MINUTES_DEFAULT may not exceed SESSION_ABSOLUTE_MINUTES_DEFAULT: "
        "a session cannot stay idle longer than it may live."
    )
# last_seen_at is written at most this often per session, so reads stay reads.
SESSION_ACTIVITY_WRITE_SECONDS = envint("SESSION_ACTIVITY_WRITE_SECONDS", 60, minimum=1)
# The expiry banner appears this many minutes before a session's closer deadline.
SESSION_WARNING_MINUTES = envint("SESSION_WARNING_MINUTES", 5, minimum=1)
# Ended sessions stay listable this long for investigation, then purge_sessions deletes them.
SESSION_RETENTION_DAYS = envint("SESSION_RETENTION_DAYS", 30, minimum=1, maximum=36_500)

# API tokens
# Empty: derived from SECRET_KEY (see sessions.tokens), so no second secret to manage.
JWT_SIGNING_KEY = envstr("JWT_SIGNING_KEY", "")
if JWT_SIGNING_KEY and len(JWT_SIGNING_KEY) < 32:
    raise ImproperlyConfigured(
        "JWT_SIGNING_KEY must be at least 32 characters (HS256 needs a 256-bit key), "
        "or unset to derive it from DJANGO_SECRET_KEY."
    )
JWT_ISSUER = envname("JWT_ISSUER", "securityportal")
JWT_AUDIENCE = envname("JWT_AUDIENCE", "securityportal-api")
# At most a day: an expiry past the year 9999 cannot even be computed.
ACCESS_TOKEN_SECONDS = envint("ACCESS_TOKEN_SECONDS", 300, minimum=30, maximum=86400)
REFRESH_REUSE_GRACE_SECONDS = envint("REFRESH_REUSE_GRACE_SECONDS", 10)

# Client IP: believe this many proxies' X-Forwarded-For entries, and no more.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
# Behind a proxy that ends TLS, Django sees plain HTTP: believe the proxy's header
# saying the browser used HTTPS, but only when there is a proxy to believe. Without
# one, any client could send "X-Forwarded-Proto: https" over plain HTTP and be
# treated as secure (no redirect to HTTPS). SECURE_PROXY_SSL_HEADER names another
# header, or is set empty to believe none.
_proxy_ssl_header = envstr(
    "SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if TRUSTED_PROXY_COUNT else ""
).strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)

# Sign-in defences (SPEC §7). Counters live in the cache: set REDIS_URL so every
# server process shares them.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
LOGIN_ACCOUNT_FAILURES_PER_HOUR = envint("LOGIN_ACCOUNT_FAILURES_PER_HOUR", 100, minimum=1)
LOGIN_RATE_PER_IP = envrate("LOGIN_RATE_PER_IP", "60/min")
SESSION_API_RATE = envrate("SESSION_API_RATE", "120/min")
# Sudo mode: policy changes and bulk sign-outs need a password entered this recently.
REAUTH_MINUTES = envint("REAUTH_MINUTES", 15, minimum=1, maximum=1440)
# Browsers are recognised by a signed device cookie this long-lived (new-device e-mails).
# At most 400, which is as long as browsers keep a cookie.
DEVICE_COOKIE_DAYS = envint("DEVICE_COOKIE_DAYS", 400, minimum=1, maximum=400)
# How long the "This wasn't me" link in a new-device e-mail works.
NEW_DEVICE_LINK_HOURS = envint("NEW_DEVICE_LINK_HOURS", 72, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["sessions.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["securityportal.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "securityportal.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The OpenAPI document at /api/schema/; Swagger UI and ReDoc are served from the
# sidecar package's files (no CDN), readable without signing in.
SPECTACULAR_SETTINGS = {
    "TITLE": "Security Portal API",
    "DESCRIPTION": (
        "Sign in for a short-lived JWT access token and a rotating refresh token; both "
        "are tied to a server-side session, so a revoke takes effect on the next request. "
        "Every error is JSON: {detail, code} and, for field errors, fields."
    ),
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's expand button (a control inside a
    # control, which screen readers cannot announce or reach): off, as axe asks.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Session.kind and LoginEvent.channel share their values: one enum.
    "ENUM_NAME_OVERRIDES": {"ClientKindEnum": "sessions.models.Session.Kind"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "securityportal.schema.describe_shared_behaviour",
    ],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production (make serve runs collectstatic): WhiteNoise serves the collected files
# under names that carry their content's hash, compressed, cacheable for a year.
# Until collectstatic has run (a fresh checkout, the tests) the storage hands out
# plain names, and `check --deploy` says so (securityportal.W008). DEBUG (make run)
# serves the source folders directly, so an edit shows on reload.
STATIC_ROOT = envstr("STATIC_ROOT", "") or str(BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "securityportal.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# The console (the server's log) only in development: a new-device e-mail carries a
# one-click link that signs a session out, which no log may hold.
EMAIL_BACKEND = envimport(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Security Portal <security@localhost>")
# The SMTP backend's server. Security e-mails are sent after the sign-in or password
# change commits, inside its request: a server that accepts the connection and then
# says nothing would hold the request until gunicorn killed the worker (the user
# never getting the cookie or tokens of a sign-in already recorded). EMAIL_TIMEOUT
# bounds each network operation of a send (the connection, each command): a server
# that stops answering fails the send after that long, and the failure is logged.
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10, minimum=1)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS and EMAIL_USE_SSL are both on: set one (STARTTLS on port 587, "
        "or TLS from the start on port 465)."
    )

# The largest API request body accepted (413 beyond): every endpoint takes a few
# short fields.
API_MAX_BODY_BYTES = envint("API_MAX_BODY_BYTES", 65536, minimum=1024)
CSRF_FAILURE_VIEW = "securityportal.errors.csrf_failure"

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy: scripts and styles only from files on this host, so an
# injected <script>, onclick= or style= does nothing (XSS, CSS exfiltration); no
# framing (clickjacking), forms post only here, no <base> to hijack relative URLs,
# no plugins. Only the API's ReDoc page relaxes it, for its run-time styles and its
# search worker (securityportal.api_docs).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
if DEBUG:
    # make run only: Django's traceback page styles and scripts itself inline, so it
    # alone is answered without the policy (securityportal.debug; outermost, so it
    # sees the header wherever the error arose). Production never installs either.
    DEFAULT_EXCEPTION_REPORTER = "securityportal.debug.ExceptionReporter"
    MIDDLEWARE.insert(0, "securityportal.debug.TechnicalErrorPageMiddleware")

# Every line carries the request id, user id and session id (securityportal.logs);
# LOG_FORMAT=json writes one JSON object per line for a log collector.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {
            "()": "securityportal.logs.console_handler",
            "log_format": envchoice("LOG_FORMAT", "plain", ("plain", "json")),
        }
    },
    "root": {
        "handlers": ["console"],
        "level": envchoice(
            "LOG_LEVEL",
            "info",
            # With Python's own spellings of two of them, which it accepts too.
            ("debug", "info", "warning", "warn", "error", "critical", "fatal"),
        ).upper(),
    },
}
