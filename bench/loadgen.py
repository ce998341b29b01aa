"""Load from a separate process: wrk (Debian's package), with bench/load.lua setting
the headers and counting every answer that is not 2xx."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.web import BenchError

LUA_SCRIPT = Path(__file__).with_name("load.lua")
THREADS = 2
CONNECTIONS = 8


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    not_2xx: int
    first_not_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is missing: apt-get install wrk (make bench does it as root)")
    return path


def wrk_version() -> str:
    done = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0]


def run_wrk(port: int, path: str, headers: dict[str, str], seconds: int) -> LoadResult:
    """``seconds`` of load on http://127.0.0.1:``port````path``; what wrk measured."""
    url = f"http://127.0.0.1:{port}{path}"
    args = [
        wrk_path(),
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    done = subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        not_2xx=raw["not_2xx"],
        first_not_2xx=raw["first_not_2xx"],
        socket_errors=raw["socket_errors"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
