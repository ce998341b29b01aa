"""A deactivation or a move meets an owner's policy change on the same account: each
locks the user and the account, so they must take them in one order, or PostgreSQL
kills one of them as a deadlock. The policy change is held after its account lock
while the deactivation starts, on PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts import owners
from accounts.models import Account, User
from conftest import api_login, once_someone_waits_for_a_row_lock
from sessions.lifecycle import end_sessions_if_access_ends
from sessions.models import Session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

APPLYING = "applying-policy"


@pytest.mark.parametrize("apply_now", [False, True])
def test_deactivating_an_owner_while_they_change_the_policy_waits_instead_of_deadlocking(
    alice, bob, acme, monkeypatch, apply_now
):
    api_login(alice)
    api_login(bob)
    locked, go_on = threading.Event(), threading.Event()
    failures: list[Exception] = []
    validate = owners.validate_overrides

    def held_after_the_account_lock(**limits: int | None):
        if threading.current_thread().name == APPLYING:
            locked.set()
            assert go_on.wait(30)
        return validate(**limits)

    monkeypatch.setattr(owners, "validate_overrides", held_after_the_account_lock)

    def in_a_thread(work) -> None:
        try:
            with transaction.atomic():
                work()
        except Exception as failure:  # a deadlock is what this test looks for
            failures.append(failure)
        finally:
            connection.close()

    def change_the_policy() -> None:
        owners.update_session_policy(
            account=Account.objects.get(pk=acme.pk),
            idle_minutes=15,
            absolute_minutes=480,
            actor=User.objects.get(pk=alice.pk),
            ip=None,
            apply_now=apply_now,
        )

    def deactivate_alice() -> None:  # as the admin saves
        user = User.objects.get(pk=alice.pk)
        user.is_active = False
        end_sessions_if_access_ends(user=user, now=timezone.now())
        user.save()

    policy = threading.Thread(target=in_a_thread, args=(change_the_policy,), name=APPLYING)
    deactivation = threading.Thread(target=in_a_thread, args=(deactivate_alice,))
    policy.start()
    assert locked.wait(30)
    deactivation.start()
    once_someone_waits_for_a_row_lock(go_on)
    policy.join(30)
    deactivation.join(30)

    assert failures == []
    assert not User.objects.get(pk=alice.pk).is_active
    assert Account.objects.get(pk=acme.pk).session_idle_minutes == 15
    assert not Session.objects.filter(user=alice, revoked_at__isnull=True).exists()
    assert Session.objects.filter(user=bob, revoked_at__isnull=True).exists()
