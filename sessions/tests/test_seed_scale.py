"""manage.py seed_scale: a scratch PostgreSQL database filled for the scale report, and
never a database that holds anyone's data."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Account, User
from accounts.roles import OWNER_GROUP
from audit.models import AuditEvent, LoginEvent
from conftest import PASSWORD, browser_for
from sessions.models import RefreshToken, Session

SMALL = {"users": 1000, "sessions": 2000, "events": 5000, "audit_events": 1000}


def seed(**options):
    out = StringIO()
    call_command("seed_scale", **{**SMALL, "password": PASSWORD, **options}, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="the PostgreSQL tests are below")
def test_it_refuses_sqlite():
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed()

    assert not User.objects.exists()


@pytest.mark.postgres_only
def test_it_refuses_a_database_that_holds_users(alice):
    with pytest.raises(CommandError, match="--force"):
        seed()

    assert Account.objects.count() == 1


@pytest.mark.postgres_only
def test_it_adds_to_a_database_that_holds_users_when_forced(alice):
    seed(force=True)

    assert Account.objects.count() == 3
    assert User.objects.get(pk=alice.pk).account.name == "Acme"


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_it_loads_the_sizes_asked_for_into_one_large_account_and_a_small_one():
    output = seed()

    large, small = Account.objects.order_by("pk")
    assert User.objects.filter(account=large).count() == 1000
    assert Session.objects.filter(account=large).count() == 2000
    assert LoginEvent.objects.filter(user__account=large).count() > 0
    assert LoginEvent.objects.count() == 5000 + 10
    assert AuditEvent.objects.filter(account=large).count() == 1000
    assert User.objects.filter(account=small).count() == 2
    assert "Done in" in output


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_its_sessions_are_a_mix_of_live_revoked_and_lapsed_browser_and_api():
    seed()

    now = timezone.now()
    sessions = Session.objects.all()
    live = sessions.live(now).count()
    revoked = sessions.filter(revoked_at__isnull=False).count()
    lapsed = sessions.filter(revoked_at__isnull=True).count() - live
    assert live > 0.1 * sessions.count()
    assert revoked > 0.3 * sessions.count()
    assert lapsed > 0.1 * sessions.count()
    assert set(sessions.values_list("kind", flat=True)) == {"browser", "api"}
    # Browser sessions have a cookie hash, API sessions a refresh token instead.
    assert not sessions.filter(kind="browser", key_hash__isnull=True).exists()
    assert RefreshToken.objects.count() == sessions.filter(kind="api").count()
    assert not sessions.filter(revoked_at__isnull=False, revoked_reason="").exists()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_every_seeded_user_shares_one_hash_of_the_given_password():
    seed()

    hashes = set(User.objects.values_list("password", flat=True))
    assert len(hashes) == 1
    assert check_password(PASSWORD, hashes.pop())


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_an_owner_it_seeds_signs_in_and_opens_the_admin():
    seed()
    owner = User.objects.filter(role=User.Role.OWNER).order_by("pk").first()

    response = browser_for(owner).get("/admin/user_sessions/session/")

    assert response.status_code == 200
    assert owner.is_staff
    assert owner.groups.filter(name=OWNER_GROUP).exists()
