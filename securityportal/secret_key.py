"""The development secret key: random, made once per checkout, kept in a file only
its owner can read. Never a constant: a key printed in the repository would let
anyone sign sessions, password-reset links and JWTs for any instance that used it."""

import contextlib
import os
import secrets
import stat
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def development_secret_key(path: Path) -> str:
    """The key stored at ``path``, created (mode 0600) on first use. Two processes
    starting at once agree on one key: the file appears whole, by a hard link, or
    not at all, and the loser of the race reads the winner's."""
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} is readable by other users (mode {mode:o}): run chmod 600 {path}, "
            "or delete it to have a new key made."
        )
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable key: delete it to have one made.")
    return key


def _create(path: Path) -> None:
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
        # Another process won the race: its key stands.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()
