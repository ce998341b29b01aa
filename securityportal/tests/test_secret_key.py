"""The development secret key: random, made once, kept in a file only its owner can
read; never a constant in the repository (anyone could forge sessions and JWTs for an
instance that used it)."""

import stat
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from conftest import PROJECT, run_python
from securityportal.secret_key import development_secret_key

KEY_PROBE = "from django.conf import settings; print(settings.SECRET_KEY)"


def test_the_key_is_made_once_and_read_back_the_same(tmp_path):
    path = tmp_path / ".secret_key"

    first = development_secret_key(path)
    second = development_secret_key(path)

    assert first == second
    assert len(first) >= 50


def test_the_key_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / ".secret_key"

    development_secret_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # No draft is left beside it.
    assert [entry.name for entry in tmp_path.iterdir()] == [".secret_key"]


def test_each_checkout_gets_its_own_key(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    assert development_secret_key(tmp_path / "a" / "k") != development_secret_key(
        tmp_path / "b" / "k"
    )


def test_a_key_file_others_can_read_is_refused_naming_the_fix(tmp_path):
    path = tmp_path / ".secret_key"
    development_secret_key(path)
    path.chmod(0o644)

    with pytest.raises(ImproperlyConfigured, match=f"chmod 600 {path}"):
        development_secret_key(path)


def test_an_empty_key_file_is_refused_naming_the_fix(tmp_path):
    path = tmp_path / ".secret_key"
    path.touch(mode=0o600)

    with pytest.raises(ImproperlyConfigured, match="delete it"):
        development_secret_key(path)


def test_development_without_a_key_uses_the_checkouts_key_file():
    loads = [
        run_python("-c", KEY_PROBE, DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None) for _ in range(2)
    ]

    assert all(load.returncode == 0 for load in loads), loads[0].stderr
    assert loads[0].stdout == loads[1].stdout
    key_file = PROJECT / ".secret_key"
    assert loads[0].stdout.strip() == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_key_file_is_never_committed():
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", ".secret_key"], cwd=PROJECT, check=False
    )

    assert ignored.returncode == 0


def test_no_development_key_constant_is_left_in_the_repository():
    # The key every DEBUG instance once shared; a JWT signed with it would be accepted.
    found = subprocess.run(
        ["git", "grep", "--quiet", "insecure-development-key", "--", ":!*/tests/*"],
        cwd=PROJECT,
        check=False,
    )

    assert found.returncode == 1
