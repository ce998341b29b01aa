"""Facts about the machine and the software a run measured, for the report."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from bench.loadgen import wrk_version
from bench.services import postgres_version

PACKAGES = (
    "Django",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "gunicorn",
    "psycopg",
    "redis",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _redis_version() -> str:
    done = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    )
    words = done.stdout.split()
    version = next((w for w in words if w.startswith("v=")), "v=?")
    return version.removeprefix("v=")


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def git_revision(folder: Path, revision: str | None) -> str:
    """The commit measured: ``revision``, or the working tree's HEAD and whether it
    held uncommitted changes."""
    if revision:
        return f"{_git(folder, 'rev-parse', '--short', revision)} (exported with git archive)"
    head = _git(folder, "rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if _git(folder, "status", "--porcelain") else "")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews a run."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def facts(project: Path, revision: str | None, load_before: str) -> dict[str, str]:
    """Name → value, in the order the report lists them."""
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory_gib(),
        "load average before the run": load_before,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "packages": packages,
        "PostgreSQL": postgres_version(),
        "Redis": _redis_version(),
        "load generator": wrk_version(),
        "portal revision": git_revision(project, revision),
    }
