"""The portal set up in this process on a scratch PostgreSQL database, for the bench
tools that call its code directly rather than through a server."""

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def set_up_portal(database_url: str, *, secret_key: str) -> None:
    """Django set up with the portal's settings on ``database_url``, migrated.

    The shell's DJANGO_*, DATABASE_* and REDIS_URL variables are set aside (other
    settings variables still apply): with REDIS_URL set, a request would read its
    session from the cache, and an activity bump would write there too."""
    for name in [name for name in os.environ if name.startswith(("DJANGO_", "DATABASE_"))]:
        del os.environ[name]
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="securityportal.settings",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_ALLOW_PLAIN_HTTP="1",
        DATABASE_URL=database_url,
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
