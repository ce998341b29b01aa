"""What signing in costs: the password hashers' parameters and times, and a whole sign-in.

    DJANGO_SECRET_KEY=bench .venv/bin/python -m bench.signin_cost [--rounds 15]

Times, each the median of ``--rounds`` in-process runs, with the production hashers
(settings.PASSWORD_HASHERS): hashing and checking one password with each hasher; a
whole browser sign-in (POST /login/) and API sign-in (POST /api/auth/login), from the
request to the answer; and a sign-in attempt refused by the lockout, which checks no
password at all. Uses a throwaway SQLite file unless DATABASE_URL names a scratch
database (migrated and filled by this script). A report, not a test: on a shared
machine the milliseconds move; the hashers' parameters do not."""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securityportal.settings")
# Django's test client, over plain HTTP, and no per-IP sign-in rate: every round
# signs in from one IP.
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_ALLOW_PLAIN_HTTP", "1")
os.environ.setdefault("LOGIN_RATE_PER_IP", "1000000/min")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
# The refused attempts would each log a warning line.
os.environ.setdefault("LOG_LEVEL", "ERROR")
if not os.environ.get("DATABASE_URL"):
    os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "signin.sqlite3")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import get_hashers  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account, User  # noqa: E402

PASSWORD = "a sign-in benchmark passphrase"
WRONG = "not the benchmark passphrase"
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0.0.0 Safari/537.36"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()  # warm up: imports, templates, the first connection
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def hasher_parameters() -> list[tuple[str, str]]:
    """Each configured hasher and the work factors it hashes with."""
    described = []
    for hasher in get_hashers():
        if hasher.algorithm == "argon2":
            parameters = (
                f"time_cost={hasher.time_cost}, memory_cost={hasher.memory_cost} KiB, "
                f"parallelism={hasher.parallelism}"
            )
        elif hasher.algorithm.startswith("bcrypt"):
            parameters = f"rounds={hasher.rounds} (cost {hasher.rounds})"
        else:
            parameters = f"iterations={hasher.iterations}"
        described.append((hasher.algorithm, parameters))
    return described


def hasher_times(rounds: int) -> list[tuple[str, float, float]]:
    """Milliseconds to hash (with a fresh salt, as setting a password does) and to check
    one password, per configured hasher."""
    times = []
    for hasher in get_hashers():
        encoded = hasher.encode(PASSWORD, hasher.salt())
        hashing = median_ms(lambda h=hasher: h.encode(PASSWORD, h.salt()), rounds)
        checking = median_ms(lambda h=hasher, e=encoded: h.verify(PASSWORD, e), rounds)
        times.append((hasher.algorithm, hashing, checking))
    return times


def sign_in_times(user: User, rounds: int) -> dict[str, float]:
    """Milliseconds of a whole sign-in, browser and API, and of a locked-out attempt."""

    def browser() -> None:
        response = Client(HTTP_USER_AGENT=CHROME).post(
            "/login/", {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code

    def api() -> None:
        response = Client(HTTP_USER_AGENT="bench").post(
            "/api/auth/login",
            {"username": user.username, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.status_code

    locked_ip = "198.51.100.99"

    def locked_out() -> None:
        response = Client(HTTP_USER_AGENT="bench").post(
            "/api/auth/login",
            {"username": user.username, "password": WRONG},
            content_type="application/json",
            REMOTE_ADDR=locked_ip,
        )
        assert response.status_code == 429, response.status_code

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        Client().post(
            "/api/auth/login",
            {"username": user.username, "password": WRONG},
            content_type="application/json",
            REMOTE_ADDR=locked_ip,
        )
    return {
        "POST /login/ (browser, right password)": median_ms(browser, rounds),
        "POST /api/auth/login (right password)": median_ms(api, rounds),
        "POST /api/auth/login, locked out (no hash)": median_ms(locked_out, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    stamp = time.time_ns()
    account = Account.objects.create(name=f"Sign-in bench {stamp}")
    user = User.objects.create_user(
        f"signin{stamp}", f"signin{stamp}@bench.example", PASSWORD, account=account
    )

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{django.db.connection.vendor}, median of {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, load average before the run {load}"
    )
    print("\nhasher parameters")
    for algorithm, parameters in hasher_parameters():
        print(f"  {algorithm:16} {parameters}")
    print(f"\n{'hasher':18} {'hash ms':>9} {'check ms':>9}")
    for algorithm, hashing, checking in hasher_times(args.rounds):
        print(f"{algorithm:18} {hashing:9.1f} {checking:9.1f}")
    print(f"\n{'request':46} {'median ms':>10}")
    for name, ms in sign_in_times(user, args.rounds).items():
        print(f"{name:46} {ms:10.1f}")


if __name__ == "__main__":
    main()
