"""Sign-in attempts and the audit trail in the Django admin: read-only, searchable, by
date, an owner's own account only (SPEC §5, §7)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.admin_scope import CappedPaginator
from accounts.models import User
from audit import events
from audit.models import AuditEvent, LoginEvent
from conftest import PASSWORD, browser_for

pytestmark = pytest.mark.django_db

LOGINS = "/admin/audit/loginevent/"
TRAIL = "/admin/audit/auditevent/"


def this_year_range(year: int) -> dict[str, str]:
    """The query the list's date filter writes for a range: [1 January, 1 January next)."""
    return {
        "created_at__gte": f"{year}-01-01 00:00:00+00:00",
        "created_at__lt": f"{year + 1}-01-01 00:00:00+00:00",
    }


def fail_sign_in(username: str) -> None:
    Client().post("/login/", {"username": username, "password": "not the password"})


def make_login_events(user: User, count: int) -> None:
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=user,
            account_id=user.account_id,
            username=user.username,
            channel=LoginEvent.Channel.BROWSER,
            success=True,
            ip=f"203.0.113.{n}",
        )
        for n in range(count)
    )


def make_audit_events(user: User, count: int) -> None:
    for n in range(count):
        events.record("session.revoked", user=user, actor=user, target=f"session:{n}")


# Sign-in attempts


def test_an_owner_lists_only_their_own_account_sign_in_attempts(alice, bob, carol):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(carol)
    fail_sign_in("carol")
    fail_sign_in("mallory")

    page = owner.get(LOGINS).content.decode()

    assert ">bob<" in page
    assert ">alice<" in page
    assert "carol" not in page
    assert "mallory" not in page
    assert "2 login events" in page


def test_sign_in_attempts_are_searchable_by_username_and_ip(alice, bob, carol):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(carol)
    make_login_events(bob, 1)  # from 203.0.113.0

    by_name = owner.get(f"{LOGINS}?q=bob").content.decode()
    by_ip = owner.get(f"{LOGINS}?q=203.0.113").content.decode()
    other = owner.get(f"{LOGINS}?q=carol").content.decode()

    assert "2 login events" in by_name
    assert "1 login event" in by_ip
    assert "0 login events" in other


def test_sign_in_attempts_filter_by_date_and_outcome(alice, bob):
    owner = browser_for(alice)
    fail_sign_in("bob")
    year = timezone.now().year

    this_year = owner.get(LOGINS, this_year_range(year)).content.decode()
    last_year = owner.get(LOGINS, this_year_range(year - 1)).content.decode()
    failed = owner.get(f"{LOGINS}?success__exact=0").content.decode()

    assert "2 login events" in this_year
    assert "0 login events" in last_year
    assert "1 login event" in failed


def test_a_sign_in_page_never_shows_the_device_key(alice):
    owner = browser_for(alice)
    event = LoginEvent.objects.get(user=alice)
    assert event.device_key

    page = owner.get(f"{LOGINS}{event.pk}/change/").content.decode()

    assert event.device_key not in page
    assert "Device key" not in page
    assert "Chrome 131 on macOS" in page


def test_every_admin_url_of_another_account_sign_in_is_refused(alice, carol):
    owner = browser_for(alice)
    browser_for(carol)
    carols = LoginEvent.objects.get(user=carol)
    own = LoginEvent.objects.get(user=alice)

    for url in (f"{LOGINS}{carols.pk}/change/", f"{LOGINS}{carols.pk}/history/"):
        response = owner.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    assert owner.get(f"{LOGINS}{carols.pk}/delete/").status_code == 403
    assert owner.get(f"{LOGINS}{own.pk}/delete/").status_code == 403


def test_sign_in_attempts_are_read_only(alice):
    owner = browser_for(alice)
    own = LoginEvent.objects.get(user=alice)

    assert owner.get(f"{LOGINS}add/").status_code == 403
    assert owner.post(f"{LOGINS}{own.pk}/change/", {"success": ""}).status_code == 403
    own.refresh_from_db()
    assert own.success


def test_the_sign_in_list_costs_the_same_queries_for_3_or_30_events(
    alice, bob, django_assert_max_num_queries
):
    owner = browser_for(alice)
    make_login_events(bob, 2)
    owner.get(LOGINS)
    with CaptureQueriesContext(connection) as three:
        assert "3 login events" in owner.get(LOGINS).content.decode()
    make_login_events(bob, 27)

    with django_assert_max_num_queries(len(three.captured_queries)):
        response = owner.get(LOGINS)

    assert "30 login events" in response.content.decode()


# The audit trail


def test_an_owner_lists_only_their_own_account_audit_events(alice, bob, carol):
    owner = browser_for(alice)
    events.record("session.revoked", user=bob, actor=bob, target="session:bobs")
    events.record("globex.only", user=carol, actor=carol, target="session:carols")

    page = owner.get(TRAIL).content.decode()

    assert "session:bobs" in page
    assert "session:carols" not in page
    assert "globex.only" not in page  # not even among the action filter's choices


def test_audit_events_are_searchable_by_action_target_and_ip(alice, bob, carol):
    owner = browser_for(alice)
    events.record("password.changed", user=bob, target="user:bob", ip="192.0.2.7")
    events.record("password.changed", user=carol, target="user:carol", ip="192.0.2.8")

    by_action = owner.get(f"{TRAIL}?q=password.changed").content.decode()
    by_target = owner.get(f"{TRAIL}?q=user:bob").content.decode()
    by_ip = owner.get(f"{TRAIL}?q=192.0.2").content.decode()
    other = owner.get(f"{TRAIL}?q=user:carol").content.decode()

    assert "1 audit event" in by_action
    assert "1 audit event" in by_target
    assert "1 audit event" in by_ip
    assert "0 audit events" in other


def test_audit_events_filter_by_date(alice, bob):
    owner = browser_for(alice)
    events.record("password.changed", user=bob, target="user:bob")
    year = timezone.now().year

    this_year = owner.get(TRAIL, {"q": "user:bob", **this_year_range(year)}).content.decode()
    last_year = owner.get(TRAIL, {"q": "user:bob", **this_year_range(year - 1)}).content.decode()

    assert "1 audit event" in this_year
    assert "0 audit events" in last_year


def test_audit_events_filter_by_kind_of_action(alice, bob):
    owner = browser_for(alice)
    events.record("password.changed", user=bob, target="user:bob")

    events.record("user.deactivated", user=bob, actor=alice, target="user:bob")

    passwords = owner.get(TRAIL, {"action": "password"}).content.decode()
    people = owner.get(TRAIL, {"action": "user"}).content.decode()
    sessions = owner.get(TRAIL, {"action": "refresh_token"}).content.decode()

    assert "1 audit event" in passwords
    assert "1 audit event" in people
    assert "0 audit events" in sessions


def test_past_the_count_cap_the_list_says_more_than_without_counting_every_row(
    alice, bob, monkeypatch
):
    owner = browser_for(alice)
    browser_for(bob)
    fail_sign_in("bob")
    monkeypatch.setattr(CappedPaginator, "CAP", 2)

    with CaptureQueriesContext(connection) as sent:
        page = owner.get(LOGINS).content.decode()

    assert "More than 2 login events" in page
    [count] = [q["sql"] for q in sent.captured_queries if "COUNT(*)" in q["sql"]]
    assert "LIMIT 3" in count


def test_no_list_filter_offers_users_or_values_read_from_the_table(alice, bob, carol):
    owner = browser_for(alice)
    events.record("password.changed", user=carol, target="user:carol")

    pages = [owner.get(url).content.decode() for url in (LOGINS, TRAIL)]

    for page in pages:
        assert "user__id__exact" not in page
        assert "actor__id__exact" not in page
        assert "created_at__year" not in page


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (TRAIL, "details=%00"),
        (TRAIL, "details__contains=revoked"),
        (LOGINS, "device_key__regex=."),  # guessing it one character at a time
        (LOGINS, "ip=zz"),
    ],
)
def test_a_lookup_the_list_does_not_offer_is_refused(alice, url, query):
    response = browser_for(alice).get(f"{url}?{query}")

    assert response.status_code == 400


@pytest.mark.parametrize("query", ["action=%00", "action=bogus", "created_at__gte=zz"])
def test_a_bad_value_for_a_filter_of_the_trail_goes_back_to_the_list(alice, query):
    response = browser_for(alice).get(f"{TRAIL}?{query}")

    assert response.status_code == 302
    assert response["Location"] == f"{TRAIL}?e=1"


def test_every_admin_url_of_another_account_audit_event_is_refused(alice, carol):
    owner = browser_for(alice)
    carols = events.record("password.changed", user=carol, target="user:carol")

    for url in (f"{TRAIL}{carols.pk}/change/", f"{TRAIL}{carols.pk}/history/"):
        response = owner.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    assert owner.get(f"{TRAIL}{carols.pk}/delete/").status_code == 403
    assert owner.get(f"{TRAIL}add/").status_code == 403


def test_the_audit_list_costs_the_same_queries_for_3_or_30_events(
    alice, bob, django_assert_max_num_queries
):
    owner = browser_for(alice)  # signing in is audited too
    make_audit_events(bob, 3 - AuditEvent.objects.count())
    owner.get(TRAIL)
    with CaptureQueriesContext(connection) as three:
        assert "3 audit events" in owner.get(TRAIL).content.decode()
    make_audit_events(bob, 27)

    with django_assert_max_num_queries(len(three.captured_queries)):
        response = owner.get(TRAIL)

    assert "30 audit events" in response.content.decode()


def test_a_superuser_sees_the_events_of_every_account(alice, carol):
    root = User.objects.create_superuser(
        username="root", email="root@platform.example", password=PASSWORD
    )
    platform = browser_for(root)
    browser_for(alice)
    browser_for(carol)
    events.record("password.changed", user=carol, target="user:carol")
    events.record("password.changed", user=alice, target="user:alice")

    logins = platform.get(LOGINS).content.decode()
    trail = platform.get(TRAIL).content.decode()

    assert ">alice<" in logins
    assert ">carol<" in logins
    assert "user:carol" in trail
    assert "user:alice" in trail
    assert AuditEvent.objects.count() >= 2


@pytest.mark.parametrize("path", [LOGINS, TRAIL], ids=["sign-ins", "audit-trail"])
def test_not_even_a_superuser_can_change_or_delete_the_record(alice, path):
    root = User.objects.create_superuser(
        username="root", email="root@platform.example", password=PASSWORD
    )
    events.record("password.changed", user=alice, target=f"user:{alice.pk}")
    admin = browser_for(root)
    row = (LoginEvent if path == LOGINS else AuditEvent).objects.latest("id")

    changed = admin.post(f"{path}{row.pk}/change/", {"ip": "10.0.0.1", "success": ""})
    deleted = admin.post(f"{path}{row.pk}/delete/", {"post": "yes"})
    in_bulk = admin.post(
        path, {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
    )

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert in_bulk.status_code in (200, 302)
    assert type(row).objects.filter(pk=row.pk).exists()
