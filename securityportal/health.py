"""Liveness and readiness, for load balancers, orchestrators and monitoring.

``/healthz`` says the process answers HTTP: it touches neither the database nor
Redis, so a PostgreSQL outage never gets healthy processes restarted in a loop.
``/readyz`` says whether this process can serve a request now: the database
answers a trivial query and, when REDIS_URL is set, Redis answers a PING; a load
balancer takes a process that is not ready out of rotation until it is again.

Both are public (a probe has no session), answer JSON that no cache may keep (a
stale "ok" would hide an outage), and are never rate limited (a probe polling
every second must not lock itself out)."""

import logging
from functools import cache

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "unavailable"
NOT_CONFIGURED = "not configured"
# A readiness probe must answer before the probe itself times out (typically 1 to
# 5 s): a Redis that accepts connections but never replies is "down" after this.
REDIS_TIMEOUT_SECONDS = 0.5


@cache
def _redis_client(url: str) -> redis.Redis:
    """One client per process (and URL), so probes reuse its pooled connection."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )


def database_state() -> str:
    """OK when the database answers ``SELECT 1`` through Django's own connection (the
    one requests use), DOWN otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Readiness: database unavailable: %s", error)
        # A connection broken by the outage must not be reused by the next probe
        # or request: the next one connects afresh and sees the recovery.
        connection.close_if_unusable_or_obsolete()
        return DOWN
    return OK


def redis_state() -> str:
    """OK when Redis answers PING within REDIS_TIMEOUT_SECONDS, DOWN when it does not,
    NOT_CONFIGURED without REDIS_URL (counters and sessions then live in the database
    and in process memory; see docs/DECISIONS.md)."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        _redis_client(settings.REDIS_URL).ping()
    except (redis.RedisError, OSError) as error:
        logger.warning("Readiness: Redis unavailable: %s", error)
        return DOWN
    return OK


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 as long as the process can answer at all."""
    return JsonResponse({"status": OK})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 with each dependency's state, or 503 naming what is down."""
    states = {"database": database_state(), "redis": redis_state()}
    down = [name for name, state in states.items() if state == DOWN]
    if down:
        return JsonResponse({**states, "down": down}, status=503)
    return JsonResponse(states)
