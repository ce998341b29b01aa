"""The processes and databases a bench run owns: scratch PostgreSQL databases, a private
Redis, and gunicorn servers. Each is started by the run and undone by it, also when the
run fails (see ``run.Cleanup``)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench.web import BenchError, send

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
WORKERS = 2
# The one gunicorn configuration of every server. Without --config, gunicorn reads
# gunicorn.conf.py from the folder it runs in: the portal's deployment (an access
# line per request, a worker replaced every thousand requests), which the peers'
# folders do not have.
GUNICORN_CONFIG = Path(__file__).with_name("gunicorn_bench.conf.py")
# Variables of the operator's shell that would change what the servers do.
_FOREIGN_ENV_PREFIXES = ("DJANGO_", "SESSION_", "JWT_", "DATABASE_URL", "SQLITE_PATH", "REDIS_")


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
        )
    except psycopg.OperationalError as error:
        raise BenchError(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER} ({error}); "
            "start it, e.g. pg_ctlcluster 15 main start"
        ) from None


def create_database(name: str) -> None:
    """A new, empty database ``name``, replacing one a crashed run left behind."""
    drop_database(name)
    with _admin_connection() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with _admin_connection() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def postgres_version() -> str:
    with _admin_connection() as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return row[0] if row else "?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without the portal's own settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV_PREFIXES)}
    env.update(extra)
    return env


def run_checked(args: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    """Run a setup command; its output, or a BenchError that shows it."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Process:
    """A child process in a session of its own, so stopping it stops its children too."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        with log.open("wb") as output:
            self.popen = subprocess.Popen(
                args,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise BenchError(f"{self.args[0]} exited with {self.popen.returncode}:\n{tail}")


def start_redis(workdir: Path) -> tuple[Process, str]:
    """A Redis of the run's own on a free port (no persistence): the bench never touches
    the data of a Redis someone else uses. The process and its URL."""
    server = shutil.which("redis-server")
    if server is None:
        raise BenchError("redis-server is missing: apt-get install redis-server")
    port = free_port()
    args = [
        server,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]
    process = Process(args, cwd=workdir, env=clean_environment(), log=workdir / "redis.log")
    _wait_for_port(port, process)
    return process, f"redis://127.0.0.1:{port}"


def _wait_for_port(port: int, process: Process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.check_alive()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise BenchError(f"{process.args[0]} did not listen on port {port} within {seconds}s")


@dataclass
class Server:
    """One gunicorn server (WORKERS sync workers) of one project and configuration."""

    name: str
    project_dir: Path
    wsgi_app: str
    env: dict[str, str]
    ready_path: str
    port: int = 0
    process: Process | None = None

    def start(self, logs: Path) -> None:
        self.port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        args = [
            gunicorn,
            "--config",
            str(GUNICORN_CONFIG),
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(self.project_dir),
            "--log-level",
            "warning",
            self.wsgi_app,
        ]
        self.process = Process(
            args, cwd=self.project_dir, env=self.env, log=logs / f"{self.name}.log"
        )

    def wait_ready(self, seconds: float = 60) -> None:
        """Block until the server answers ``ready_path`` without a server error."""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.process.check_alive()
            try:
                if send(self.port, "GET", self.ready_path, timeout=5).status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"server {self.name} was not ready within {seconds}s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
