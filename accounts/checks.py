"""System checks for what Django's own checks cannot see."""

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_counters(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The lockout and rate limits count in the cache; in process memory, each server
    process counts on its own, and N processes give an attacker N times the limit."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache"):
        return [
            Warning(
                "The cache is in each process's memory, so sign-in lockout and rate-limit "
                "counters are not shared between server processes.",
                hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0).",
                id="securityportal.W001",
            )
        ]
    return []
