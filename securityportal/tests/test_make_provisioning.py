"""The README's provisioning commands, `make account`, `make user` and `make demo-passwords`,
work on a fresh checkout: no database yet and no DJANGO_SECRET_KEY in the environment."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import _PROJECT_ENV_PREFIXES, PROJECT

PASSWORD = "tangerine lighthouse gravel"
# What a caller's shell or an enclosing make may hold, and a fresh checkout does not.
_CALLER_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORTAL_PASSWORD")


def make(target: str, *variables: str, database: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``make TARGET VARIABLES…`` on the SQLite file ``database``, with this
    interpreter's folder as the virtualenv's bin and without reinstalling it."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_PROJECT_ENV_PREFIXES) and k not in _CALLER_VARIABLES
    }
    clean.update(SQLITE_PATH=str(database), **env)
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "--old-file=.venv/.installed",
            f"BIN={Path(sys.executable).parent}",
            target,
            *variables,
        ],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def users(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT accounts_user.username, accounts_user.role, accounts_account.name "
            "FROM accounts_user JOIN accounts_account ON accounts_account.id = account_id "
            "ORDER BY accounts_user.username"
        ).fetchall()


def test_make_account_and_make_user_provision_a_fresh_checkout_without_a_secret_key(tmp_path):
    database = tmp_path / "db.sqlite3"

    account = make(
        "account",
        "NAME=Initech",
        "OWNER=peter",
        "EMAIL=peter@initech.example",
        database=database,
        PORTAL_PASSWORD=PASSWORD,
    )
    user = make(
        "user",
        "USERNAME=milton",
        "ACCOUNT=Initech",
        "EMAIL=milton@initech.example",
        database=database,
        PORTAL_PASSWORD=PASSWORD,
    )

    assert account.returncode == 0, account.stderr
    assert "Created account 'Initech' owned by 'peter'." in account.stdout
    assert user.returncode == 0, user.stderr
    assert "Created member 'milton' in 'Initech'." in user.stdout
    assert PASSWORD not in account.stdout + user.stdout
    assert users(database) == [("milton", "member", "Initech"), ("peter", "owner", "Initech")]


def test_make_demo_passwords_prints_new_passwords_each_time(tmp_path):
    database = tmp_path / "db.sqlite3"
    line = re.compile(r"^\s+(owner|member)\s+/ (\S+)$", re.M)

    first = make("demo-passwords", database=database)
    second = make("demo-passwords", database=database)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    first_passwords = dict(line.findall(first.stdout))
    second_passwords = dict(line.findall(second.stdout))
    assert set(first_passwords) == set(second_passwords) == {"owner", "member"}
    assert first_passwords["owner"] != second_passwords["owner"]
    assert first_passwords["member"] != second_passwords["member"]


def test_make_user_takes_no_username_from_the_environment_and_touches_nothing(tmp_path):
    # On Windows USERNAME is the operator's own login; it must not name the new user.
    database = tmp_path / "db.sqlite3"

    result = make(
        "user",
        "ACCOUNT=Initech",
        "EMAIL=milton@initech.example",
        database=database,
        USERNAME="operator",
        PORTAL_PASSWORD=PASSWORD,
    )

    assert result.returncode != 0
    assert "USERNAME is missing. Usage: make user USERNAME=bob" in result.stderr
    assert not database.exists()


def test_make_account_and_make_user_take_every_character_as_given(tmp_path):
    # Written into the recipe, make would expand "$P" and the shell would read the
    # quotes (and run a backtick): the account would be created under another name.
    database = tmp_path / "db.sqlite3"
    marker = PROJECT / ".make-ran-a-value"
    name = f'Cost$Plus "Big" `Co` $(shell touch {marker.name})'

    account = make(
        "account",
        f"NAME={name}",
        "OWNER=peter",
        "EMAIL=peter@initech.example",
        database=database,
        PORTAL_PASSWORD=PASSWORD,
    )
    user = make(
        "user",
        "USERNAME=milton",
        f"ACCOUNT={name}",
        "EMAIL=milton@initech.example",
        database=database,
        PORTAL_PASSWORD=PASSWORD,
    )

    assert account.returncode == 0, account.stderr
    assert user.returncode == 0, user.stderr
    assert users(database) == [("milton", "member", name), ("peter", "owner", name)]
    ran = marker.exists()
    marker.unlink(missing_ok=True)
    assert not ran


def join_initech(
    username: str, *variables: str, database: Path, **env: str
) -> subprocess.CompletedProcess:
    """``make user`` adding ``username`` to Initech, with ``variables`` and ``env``."""
    return make(
        "user",
        f"USERNAME={username}",
        "ACCOUNT=Initech",
        f"EMAIL={username}@initech.example",
        *variables,
        database=database,
        PORTAL_PASSWORD=PASSWORD,
        **env,
    )


def test_make_user_takes_no_role_from_the_environment(tmp_path):
    # An owner is staff: a ROLE left in the operator's shell must not make one.
    database = tmp_path / "db.sqlite3"
    make(
        "account",
        "NAME=Initech",
        "OWNER=peter",
        "EMAIL=peter@initech.example",
        database=database,
        PORTAL_PASSWORD=PASSWORD,
    )

    user = join_initech("milton", database=database, ROLE="owner")
    unset = join_initech("carol", "ROLE=", database=database)
    owner = join_initech("bob", "ROLE=owner", database=database)

    assert user.returncode == 0, user.stderr
    assert owner.returncode == 0, owner.stderr
    assert unset.returncode == 0, unset.stderr
    assert users(database) == [
        ("bob", "owner", "Initech"),
        ("carol", "member", "Initech"),
        ("milton", "member", "Initech"),
        ("peter", "owner", "Initech"),
    ]
