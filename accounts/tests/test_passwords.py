"""Password storage with the production hashers: Argon2id first, older hashes upgraded at
the next sign-in, long passwords kept whole, and Django's validators in force."""

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import User
from conftest import CHROME_MAC, PASSWORD
from securityportal import settings as production_settings
from securityportal.client import ClientInfo
from sessions.lifecycle import CredentialsChanged, open_session
from sessions.models import Session

NO_CLIENT = ClientInfo(ip=None, user_agent="")
LONG_PASSWORD = "".join(f"{n:03d}-wharf-lantern-" for n in range(12))[:200]


@pytest.fixture
def production_hashers(settings):
    # Overrides the suite's fast MD5 hasher (conftest.fast_password_hashing).
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS


def sign_in(username: str, password: str):
    client = Client(HTTP_USER_AGENT=CHROME_MAC)
    return client.post("/login/", {"username": username, "password": password})


def test_production_prefers_argon2_then_bcrypt_then_pbkdf2():
    assert production_settings.PASSWORD_HASHERS == [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def test_a_new_password_is_hashed_with_argon2id(production_hashers, alice):
    alice.set_password("a fresh and lengthy passphrase")
    alice.save()

    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$")
    assert alice.check_password("a fresh and lengthy passphrase")


@pytest.mark.parametrize(
    ("hasher", "prefix"),
    [("bcrypt_sha256", "bcrypt_sha256$"), ("pbkdf2_sha256", "pbkdf2_sha256$")],
)
def test_an_older_hash_signs_in_and_is_upgraded_to_argon2(
    production_hashers, alice, hasher, prefix
):
    alice.password = make_password(PASSWORD, hasher=hasher)
    alice.save()
    assert alice.password.startswith(prefix)

    response = sign_in("alice", PASSWORD)

    assert response.status_code == 302
    assert Session.objects.filter(user=alice).count() == 1
    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$")
    assert alice.check_password(PASSWORD)


def test_two_sign_ins_that_both_upgrade_an_older_hash_both_get_in(production_hashers, alice):
    alice.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    alice.save()
    # A browser and an app sign in at once: both read the old hash before either
    # has stored its upgrade.
    browser, app = User.objects.get(pk=alice.pk), User.objects.get(pk=alice.pk)

    assert browser.check_password(PASSWORD)
    assert app.check_password(PASSWORD)
    session = open_session(user=app, kind="api", client=NO_CLIENT, now=timezone.now())

    assert session.revoked_at is None
    stored = User.objects.get(pk=alice.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert app.password == stored


def test_a_password_changed_under_a_hash_upgrade_refuses_the_sign_in(production_hashers, alice):
    alice.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    alice.save()
    signing_in = User.objects.get(pk=alice.pk)
    alice.set_password("a brand new passphrase of hers")
    alice.save()

    assert signing_in.check_password(PASSWORD)
    with pytest.raises(CredentialsChanged):
        open_session(user=signing_in, kind="api", client=NO_CLIENT, now=timezone.now())

    assert User.objects.get(pk=alice.pk).check_password("a brand new passphrase of hers")


def test_a_wrong_password_does_not_upgrade_an_older_hash(production_hashers, alice):
    alice.password = make_password(PASSWORD, hasher="bcrypt_sha256")
    alice.save()

    response = sign_in("alice", "not the password at all")

    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.password.startswith("bcrypt_sha256$")


def test_a_200_character_password_is_accepted_by_the_validators(alice):
    assert validate_password(LONG_PASSWORD, alice) is None


def test_a_200_character_password_signs_in_and_is_not_truncated(production_hashers, alice):
    alice.set_password(LONG_PASSWORD)
    alice.save()

    almost = sign_in("alice", LONG_PASSWORD[:-1])
    exact = sign_in("alice", LONG_PASSWORD)

    assert almost.status_code == 200
    assert exact.status_code == 302
    assert Session.objects.filter(user=alice).count() == 1


def test_a_bcrypt_hash_of_a_long_password_is_not_truncated(production_hashers, alice):
    # Plain bcrypt ignores everything after 72 bytes; BCryptSHA256 must not.
    alice.password = make_password(LONG_PASSWORD, hasher="bcrypt_sha256")
    alice.save()

    almost = sign_in("alice", LONG_PASSWORD[:-1])
    exact = sign_in("alice", LONG_PASSWORD)

    assert almost.status_code == 200
    assert exact.status_code == 302


def test_a_password_shorter_than_12_characters_is_rejected(alice):
    with pytest.raises(ValidationError) as error:
        validate_password("Vq7#mrTz!2k", alice)

    assert [e.code for e in error.value.error_list] == ["password_too_short"]
    assert "at least 12 characters" in error.value.messages[0]


def test_a_password_of_12_characters_is_accepted(alice):
    validate_password("Vq7#mrTz!2kW", alice)
