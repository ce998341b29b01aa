"""How the portal runs in production (make serve): how many gunicorn processes, and
an access log with nothing in it that could sign anyone in."""

import os
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from securityportal.env import envint
from securityportal.logs import loggable_path, printable

# Past this many workers on one host, memory runs out before throughput grows.
MAX_WORKERS = 12


def worker_count(*, shared_cache: bool) -> int:
    """WEB_CONCURRENCY if set. Else, with a cache every process shares (Redis),
    2 * cores + 1 (one worker waits on the database while another computes), at
    most MAX_WORKERS; without one, a single process (with threads), because
    sign-in lockout and rate-limit counters in process memory are only whole in
    one process: N processes would give an attacker N times the limit."""
    if not shared_cache:
        return envint("WEB_CONCURRENCY", 1, minimum=1)
    cores = os.cpu_count() or 1
    return envint("WEB_CONCURRENCY", min(2 * cores + 1, MAX_WORKERS), minimum=1)


class AccessLogger(Logger):
    """gunicorn's logger, whose request path is redacted (see loggable_path) and
    printable (log injection: gunicorn writes the decoded path as it came). The
    log format (gunicorn.conf.py) leaves out the query string, the Referer (another
    page's query string) and every header but the user agent."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = printable(loggable_path(environ.get("PATH_INFO", "")))
        return atoms
