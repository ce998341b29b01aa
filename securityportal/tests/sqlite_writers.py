"""Eight threads signing in and out against one SQLite file, as concurrent requests do.

Run by test_sqlite_concurrency in a fresh process (it needs a file database,
not the test runner's in-memory one). Prints the errors it met, one a line."""

import os
import sys
import threading

import django

THREADS = 8
ROUNDS = 15


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securityportal.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Account, User
    from securityportal.client import ClientInfo
    from sessions.lifecycle import open_session
    from sessions.models import Session

    call_command("migrate", verbosity=0)
    account = Account.objects.create(name="Load")
    user = User.objects.create_user("load", "load@load.example", "x" * 16, account=account)
    client = ClientInfo(ip="127.0.0.1", user_agent="")
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(ROUNDS):
                # Read, then write, in one transaction: under SQLite's default
                # deferred transactions two of these deadlock on the lock
                # upgrade and one fails at once with "database is locked".
                with transaction.atomic():
                    Session.objects.filter(user=user).count()
                    row = open_session(
                        user=user, kind=Session.Kind.API, client=client, now=timezone.now()
                    )
                row.end(reason="logout")
        except Exception as error:  # reported, not raised: the test reads them
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("\n".join(errors))
    print(f"rows={Session.objects.count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
