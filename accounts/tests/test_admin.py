"""The Django admin for account owners: who gets in and how, staff through the role,
users and the account's policy, each owner kept to their own account (SPEC §5, §7)."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.admin_scope import AccountScopedAdmin
from accounts.models import Account, User
from accounts.roles import OWNER_GROUP, OWNER_PERMISSIONS
from audit import events
from audit.models import AuditEvent, LoginEvent
from conftest import PASSWORD, browser_for
from sessions.models import RevokedReason, Session

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser(
        username="root", email="root@platform.example", password=PASSWORD
    )


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def user_form(user: User, **changes: object) -> dict:
    """The admin's change form for ``user`` as a browser would post it, with ``changes``."""
    form = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": "on" if user.is_active else "",
        "_save": "Save",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value != ""}


def moved_form(user: User, account: Account, **changes: object) -> dict:
    """A superuser's change form moving ``user`` to ``account`` (a superuser's form
    also has the join date), with ``changes``."""
    return {
        **user_form(user, **changes),
        "account": str(account.pk),
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


def policy_form(idle: object = "", absolute: object = "", **extra: object) -> dict:
    return {
        "session_idle_minutes": idle,
        "session_absolute_minutes": absolute,
        "_save": "Save",
        **extra,
    }


def policy_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="account.session_policy_update"))


def does_not_exist(response) -> bool:
    """The admin's answer for a row the viewer cannot reach: back to the index
    (with "does not exist") or 404 — never the row."""
    return (response.status_code, response.get("Location")) in {(302, "/admin/"), (404, None)}


def refused_like_own_rows(owner: Client, url: str, own_url: str) -> bool:
    """Owners delete nothing: a delete URL answers 403 for their own rows and for
    another account's alike, so the answer says nothing about the row."""
    return owner.get(url).status_code == owner.get(own_url).status_code == 403


# Who gets in, and how


def test_a_signed_in_member_gets_403_on_every_admin_page(bob):
    member = browser_for(bob)

    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{bob.pk}/change/"):
        response = member.get(url)
        assert response.status_code == 403, url
        assert "The admin is for account owners" in response.content.decode()
    assert member.get("/admin/login/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_portal_sign_in_page(db):
    response = Client().get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/accounts/user/"


def test_the_admin_login_page_sends_visitors_to_the_portal_sign_in_page(db):
    asked = Client().get("/admin/login/?next=/admin/accounts/account/")
    bare = Client().get("/admin/login/")

    assert asked.status_code == bare.status_code == 302
    assert asked["Location"] == "/login/?next=/admin/accounts/account/"
    assert bare["Location"] == "/login/?next=/admin/"


def test_the_admin_login_form_takes_no_credentials(alice):
    visitor = Client()

    response = visitor.post("/admin/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert visitor.get("/admin/").status_code == 302  # still signed out
    assert not Session.objects.exists()


def test_signing_in_returns_to_the_admin_page_asked_for(alice):
    browser = Client()

    response = browser.post(
        "/login/?next=/admin/accounts/user/", {"username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/"
    assert browser.get("/admin/accounts/user/").status_code == 200


@pytest.mark.parametrize(
    "next_url",
    ["/admin/logout/", "/admin/autocomplete/", "/admin/accounts/user/add/", "/admin/nowhere/"],
)
def test_signing_in_does_not_return_to_admin_actions(alice, next_url):
    response = Client().post(
        f"/login/?next={next_url}", {"username": "alice", "password": PASSWORD}
    )

    assert response["Location"] == "/settings/security/"


def test_an_owner_signed_in_at_the_admin_login_page_goes_to_the_index(alice):
    response = browser_for(alice).get("/admin/login/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_admin_signs_out_on_post_only_through_the_portal_sign_out(alice):
    owner = browser_for(alice)
    row = row_of(owner)

    refused = owner.get("/admin/logout/")
    assert refused.status_code == 405
    row.refresh_from_db()
    assert row.revoked_at is None

    response = owner.post("/admin/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=signed_out"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    row.refresh_from_db()
    assert row.revoked_reason == RevokedReason.LOGOUT


def test_every_admin_page_an_owner_or_superuser_opens_renders(root, alice, bob):
    events.record("password.changed", user=bob, target=f"user:{bob.pk}")
    for person in (alice, root):
        browser = browser_for(person)
        session = Session.objects.filter(user=person).latest("created_at")
        login = LoginEvent.objects.filter(user=person).latest("created_at")
        audit = AuditEvent.objects.latest("id")
        for url in (
            "/admin/",
            "/admin/accounts/",
            "/admin/accounts/user/add/",
            f"/admin/accounts/user/{bob.pk}/change/",
            f"/admin/accounts/user/{bob.pk}/history/",
            f"/admin/accounts/user/{bob.pk}/password/",
            f"/admin/accounts/account/{alice.account_id}/change/",
            f"/admin/user_sessions/session/{session.pk}/change/",
            f"/admin/audit/loginevent/{login.pk}/change/",
            f"/admin/audit/auditevent/{audit.pk}/change/",
        ):
            assert browser.get(url).status_code == 200, (person, url)


def test_the_admin_password_change_page_is_the_security_page(alice):
    response = browser_for(alice).get("/admin/password_change/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/#password-title"


@pytest.mark.parametrize("spelled", ["{pk}", "0{pk}"])
def test_ones_own_password_page_in_the_admin_is_the_security_page(alice, spelled):
    # Django's page sets a password without asking for the current one, and could
    # switch password sign-in off: a stolen cookie would take the account.
    owner = browser_for(alice)
    url = f"/admin/accounts/user/{spelled.format(pk=alice.pk)}/password/"

    shown = owner.get(url)
    posted = owner.post(
        url,
        {
            "usable_password": "false",
            "password1": "taken over by a cookie thief",
            "password2": "taken over by a cookie thief",
        },
    )

    for response in (shown, posted):
        assert response.status_code == 302
        assert response["Location"] == "/settings/security/#password-title"
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert owner.get("/admin/").status_code == 200


def test_a_moved_users_history_shows_no_change_made_in_their_former_account(
    root, alice, carol, globex
):
    dave = User.objects.create_user(
        username="dave", email="dave@globex.example", password=PASSWORD, account=globex
    )
    browser_for(carol).post(
        f"/admin/accounts/user/{dave.pk}/change/", user_form(dave, first_name="Dave")
    )
    browser_for(root).post(
        f"/admin/accounts/user/{dave.pk}/change/", moved_form(dave, alice.account)
    )
    dave.refresh_from_db()
    owner = browser_for(alice)
    owner.post(f"/admin/accounts/user/{dave.pk}/change/", user_form(dave, last_name="Smith"))

    page = owner.get(f"/admin/accounts/user/{dave.pk}/history/").content.decode()

    assert "Changed Last name." in page
    assert "Changed First name." not in page
    assert "carol" not in page


# Staff through the role


def test_owners_are_staff_in_the_owner_group_and_members_are_not(alice, bob):
    assert alice.is_staff
    assert list(alice.groups.values_list("name", flat=True)) == [OWNER_GROUP]
    assert not bob.is_staff
    assert not bob.groups.exists()


def test_changing_the_role_moves_staff_status_and_the_group(bob):
    bob.role = User.Role.OWNER
    bob.save()
    bob.refresh_from_db()
    assert bob.is_staff
    assert bob.groups.filter(name=OWNER_GROUP).exists()

    bob.role = User.Role.MEMBER
    bob.save(update_fields=["role"])
    bob.refresh_from_db()
    assert not bob.is_staff
    assert not bob.groups.exists()


def test_a_member_marked_staff_is_not_staff(bob):
    bob.is_staff = True
    bob.save()

    bob.refresh_from_db()
    assert not bob.is_staff


def test_superusers_stay_staff_whatever_their_role(root):
    root.role = User.Role.MEMBER
    root.save()

    root.refresh_from_db()
    assert root.is_staff


def test_the_migrated_owner_group_holds_exactly_the_owner_permissions(db):
    group = Group.objects.get(name=OWNER_GROUP)

    granted = set(group.permissions.values_list("content_type__app_label", "codename"))

    assert granted == set(OWNER_PERMISSIONS)


def test_the_owner_group_comes_back_with_its_permissions_if_deleted(acme):
    Group.objects.filter(name=OWNER_GROUP).delete()

    dave = User.objects.create_user(
        username="dave", email="dave@acme.example", account=acme, role=User.Role.OWNER
    )

    group = dave.groups.get()
    assert group.name == OWNER_GROUP
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == set(
        OWNER_PERMISSIONS
    )


# Users


def test_an_owner_lists_searches_and_pops_up_only_their_own_account_users(alice, bob, carol):
    owner = browser_for(alice)

    listed = owner.get("/admin/accounts/user/").content.decode()
    searched = owner.get("/admin/accounts/user/?q=carol").content.decode()
    popup = owner.get("/admin/accounts/user/?_popup=1&_to_field=id").content.decode()

    assert "bob@acme.example" in listed
    assert "alice@acme.example" in listed
    for page in (listed, searched, popup):
        assert "carol@globex.example" not in page
    assert "0 users" in searched


def test_an_owner_cannot_filter_their_way_into_another_account(alice, carol):
    owner = browser_for(alice)

    owners = owner.get("/admin/accounts/user/?role__exact=owner")
    by_account = owner.get(f"/admin/accounts/user/?account__id__exact={carol.account_id}")

    assert owners.status_code == 200
    assert "alice@acme.example" in owners.content.decode()
    assert "carol@globex.example" not in owners.content.decode()
    # Not a filter an owner has: refused, not answered.
    assert by_account.status_code == 400
    assert "carol@globex.example" not in by_account.content.decode()


@pytest.mark.parametrize(
    "query", ["username=%00", "password__startswith=md5", "last_login__gte=zz", "pk=1"]
)
def test_a_lookup_the_users_list_does_not_offer_is_refused(alice, query):
    response = browser_for(alice).get(f"/admin/accounts/user/?{query}")

    assert response.status_code == 400


def test_a_search_of_twenty_words_runs_and_one_of_more_is_refused(alice):
    owner = browser_for(alice)

    twenty = owner.get("/admin/accounts/user/", {"q": " ".join(["alice"] * 20)})
    thousand = owner.get("/admin/accounts/user/", {"q": " ".join(["x"] * 1000)})

    assert twenty.status_code == 200
    assert "alice@acme.example" in twenty.content.decode()
    assert thousand.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/account/",
        "/admin/user_sessions/session/",
        "/admin/audit/loginevent/",
        "/admin/audit/auditevent/",
        "/admin/auth/group/",
    ],
)
def test_a_search_longer_than_two_hundred_characters_is_refused_on_every_list(root, path):
    superuser = browser_for(root)

    longest = superuser.get(path, {"q": "a" * 200})
    longer = superuser.get(path, {"q": "a" * 50_001})

    assert longest.status_code == 200
    assert longer.status_code == 400
    assert "Retry-After" not in longer


@pytest.mark.parametrize("selected", ["abc", str(10**30), "1.5", "\x00"])
def test_a_group_action_on_a_row_id_no_group_can_have_is_refused(root, selected):
    group = Group.objects.create(name="auditors")

    response = browser_for(root).post(
        "/admin/auth/group/",
        {"action": "delete_selected", "_selected_action": [str(group.pk), selected]},
    )

    assert response.status_code == 400
    assert Group.objects.filter(pk=group.pk).exists()


@pytest.mark.parametrize(
    "query",
    [
        {"app_label": "accounts", "model_name": "account", "field_name": "users"},
        {"app_label": "accounts", "model_name": "user", "field_name": "username"},
        {"app_label": "accounts", "model_name": "user", "field_name": "nothing"},
        {"app_label": "nothing", "model_name": "user", "field_name": "account"},
        {"model_name": "user", "field_name": "account"},
    ],
    ids=["reverse-relation", "not-a-relation", "no-such-field", "no-such-app", "no-app"],
)
def test_an_autocomplete_for_a_field_no_form_holds_is_refused(alice, root, query):
    for user in (alice, root):
        response = browser_for(user).get("/admin/autocomplete/", {**query, "term": "a"})

        assert response.status_code == 403


def test_an_autocomplete_search_of_more_than_twenty_words_is_refused(alice):
    response = browser_for(alice).get(
        "/admin/autocomplete/",
        {
            "app_label": "user_sessions",
            "model_name": "session",
            "field_name": "user",
            "term": " ".join(["x"] * 1000),
        },
    )

    assert response.status_code == 400


@pytest.mark.parametrize("account", ["abc", "99999999999999999999"])
def test_a_superuser_sent_an_account_id_no_account_can_have_gets_the_form_back(
    root, alice, account
):
    response = browser_for(root).post(
        f"/admin/accounts/user/{alice.pk}/change/", user_form(alice, account=account)
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    alice.refresh_from_db()
    assert alice.account.name == "Acme"


def test_a_nul_byte_in_a_filter_value_goes_back_to_the_list(alice):
    response = browser_for(alice).get("/admin/accounts/user/?role__exact=%00")

    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/?e=1"


def test_a_superuser_cannot_add_an_account_named_like_another_in_any_case(root, acme):
    # "ACME" beside "Acme" would be two tenants that make user ACCOUNT=acme mixes up.
    response = browser_for(root).post("/admin/accounts/account/add/", {"name": "ACME"})

    assert response.status_code == 200
    assert "An account with this name already exists." in response.content.decode()
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]


def test_a_superuser_filters_users_by_account(root, alice, carol):
    response = browser_for(root).get(
        f"/admin/accounts/user/?account__id__exact={carol.account_id}"
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "carol@globex.example" in page
    assert "alice@acme.example" not in page


def test_every_admin_url_of_another_account_user_is_refused(alice, carol):
    owner = browser_for(alice)

    for url in (
        f"/admin/accounts/user/{carol.pk}/change/",
        f"/admin/accounts/user/{carol.pk}/history/",
        f"/admin/accounts/user/{carol.pk}/password/",
    ):
        response = owner.get(url)
        assert does_not_exist(response), (url, response.status_code)
    assert refused_like_own_rows(
        owner,
        f"/admin/accounts/user/{carol.pk}/delete/",
        f"/admin/accounts/user/{alice.pk}/delete/",
    )

    posted = owner.post(
        f"/admin/accounts/user/{carol.pk}/change/", user_form(carol, email="x@x.example")
    )
    assert does_not_exist(posted)
    carol.refresh_from_db()
    assert carol.email == "carol@globex.example"


def test_an_owner_cannot_make_anyone_staff_or_superuser_or_move_them(alice, bob, globex):
    owner = browser_for(alice)
    group = Group.objects.get(name=OWNER_GROUP)

    response = owner.post(
        f"/admin/accounts/user/{bob.pk}/change/",
        user_form(
            bob,
            first_name="Bob",
            is_staff="on",
            is_superuser="on",
            account=str(globex.pk),
            groups=str(group.pk),
        ),
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.first_name == "Bob"
    assert (bob.is_staff, bob.is_superuser, bob.account_id) == (False, False, alice.account_id)
    assert not bob.groups.exists()


def test_the_owner_form_shows_none_of_the_platform_fields(alice, bob):
    page = browser_for(alice).get(f"/admin/accounts/user/{bob.pk}/change/").content.decode()

    for field in ("account", "is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page


def test_an_owner_sees_a_role_but_cannot_change_it(alice, bob):
    owner = browser_for(alice)

    page = owner.get(f"/admin/accounts/user/{bob.pk}/change/").content.decode()
    response = owner.post(
        f"/admin/accounts/user/{bob.pk}/change/", user_form(bob, role="owner", first_name="Bob")
    )

    assert 'name="role"' not in page
    assert "Member" in page
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.first_name == "Bob"
    assert (bob.role, bob.is_staff) == (User.Role.MEMBER, False)
    assert not bob.groups.exists()
    assert LogEntry.objects.filter(user=alice, object_id=str(bob.pk)).exists()


def test_an_owner_cannot_demote_another_owner(alice, acme):
    dave = User.objects.create_user(
        username="dave", email="dave@acme.example", account=acme, role=User.Role.OWNER
    )

    response = browser_for(alice).post(
        f"/admin/accounts/user/{dave.pk}/change/", user_form(dave, role="member")
    )

    assert response.status_code == 302
    dave.refresh_from_db()
    assert (dave.role, dave.is_staff) == (User.Role.OWNER, True)


def test_a_superuser_changes_a_role(root, bob):
    response = browser_for(root).post(
        f"/admin/accounts/user/{bob.pk}/change/",
        {
            **user_form(bob, role="owner"),
            "account": str(bob.account_id),
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.role == User.Role.OWNER
    assert bob.is_staff
    assert bob.groups.filter(name=OWNER_GROUP).exists()


def test_an_owner_deactivating_and_reactivating_someone_is_audited_with_who_and_where(alice, bob):
    owner = browser_for(alice)
    change = f"/admin/accounts/user/{bob.pk}/change/"

    owner.post(change, user_form(bob, is_active=""), REMOTE_ADDR="203.0.113.9")
    bob.refresh_from_db()
    owner.post(change, user_form(bob, is_active="on"), REMOTE_ADDR="203.0.113.9")

    rows = AuditEvent.objects.filter(action__startswith="user.").order_by("id")
    assert [(row.action, row.user, row.actor, row.account, row.ip) for row in rows] == [
        ("user.deactivated", bob, alice, bob.account, "203.0.113.9"),
        ("user.reactivated", bob, alice, bob.account, "203.0.113.9"),
    ]


def test_the_sign_out_of_a_user_an_owner_deactivates_says_who_and_where(alice, bob):
    bobs = row_of(browser_for(bob))

    browser_for(alice).post(
        f"/admin/accounts/user/{bob.pk}/change/",
        user_form(bob, is_active=""),
        REMOTE_ADDR="203.0.113.9",
    )

    bobs.refresh_from_db()
    assert bobs.revoked_reason == RevokedReason.ADMIN
    [revoked] = AuditEvent.objects.filter(action="session.revoked", user=bob)
    assert (revoked.actor, revoked.account, revoked.ip) == (alice, bob.account, "203.0.113.9")
    assert revoked.details == {"reason": "admin", "scope": "deactivated", "count": 1}


def test_the_sign_out_of_a_moved_user_is_in_the_trail_of_the_account_they_left(root, bob, globex):
    acme = bob.account
    bobs = row_of(browser_for(bob))

    browser_for(root).post(
        f"/admin/accounts/user/{bob.pk}/change/",
        moved_form(bob, globex),
        REMOTE_ADDR="198.51.100.4",
    )

    bobs.refresh_from_db()
    assert bobs.revoked_reason == RevokedReason.ADMIN
    # acme's owners see their session ended; globex's never had it.
    [revoked] = AuditEvent.objects.filter(action="session.revoked", user=bob)
    assert (revoked.account, revoked.actor, revoked.ip) == (acme, root, "198.51.100.4")
    assert revoked.details["scope"] == "moved_account"


def test_an_edit_that_changes_no_access_writes_no_access_row(alice, bob):
    response = browser_for(alice).post(
        f"/admin/accounts/user/{bob.pk}/change/", user_form(bob, first_name="Robert")
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.first_name == "Robert"
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_a_superuser_changing_a_role_and_an_account_is_audited_in_both_accounts(root, bob, globex):
    acme = bob.account

    browser_for(root).post(
        f"/admin/accounts/user/{bob.pk}/change/",
        moved_form(bob, globex, role="owner"),
        REMOTE_ADDR="198.51.100.4",
    )

    role = AuditEvent.objects.get(action="user.role_changed")
    assert (role.user, role.actor, role.ip) == (bob, root, "198.51.100.4")
    assert role.details == {"old": "member", "new": "owner"}
    moved = AuditEvent.objects.filter(action="user.account_changed")
    assert {event.account for event in moved} == {acme, globex}
    assert [event.details for event in moved] == [{"old": acme.pk, "new": globex.pk}] * 2


def test_an_owner_cannot_demote_or_deactivate_themselves_here(alice):
    response = browser_for(alice).post(
        f"/admin/accounts/user/{alice.pk}/change/",
        user_form(alice, role="member", is_active="", first_name="Alice"),
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.first_name, alice.role, alice.is_active) == ("Alice", "owner", True)


def test_a_user_an_owner_adds_joins_the_owner_account(alice, globex):
    response = browser_for(alice).post(
        "/admin/accounts/user/add/",
        {
            "username": "dave",
            "email": "dave@acme.example",
            "role": "member",
            "usable_password": "true",
            "password1": "another long passphrase",
            "password2": "another long passphrase",
            "account": str(globex.pk),
            "is_superuser": "on",
            "is_staff": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    dave = User.objects.get(username="dave")
    assert (dave.account_id, dave.is_staff, dave.is_superuser) == (alice.account_id, False, False)
    assert dave.check_password("another long passphrase")


def test_a_user_an_owner_adds_is_a_member_whatever_the_request_says(alice):
    response = browser_for(alice).post(
        "/admin/accounts/user/add/",
        {
            "username": "dave",
            "email": "dave@acme.example",
            "role": "owner",
            "usable_password": "true",
            "password1": "another long passphrase",
            "password2": "another long passphrase",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    dave = User.objects.get(username="dave")
    assert (dave.role, dave.is_staff) == (User.Role.MEMBER, False)
    assert not dave.groups.exists()


def test_an_owner_cannot_reach_a_superuser_in_their_account(alice, acme):
    admin = User.objects.create_superuser(
        username="ops", email="ops@acme.example", password=PASSWORD, account=acme
    )
    owner = browser_for(alice)

    listed = owner.get("/admin/accounts/user/").content.decode()
    reset = owner.post(
        f"/admin/accounts/user/{admin.pk}/password/",
        {"password1": "owner chose this one", "password2": "owner chose this one"},
    )

    assert "ops@acme.example" not in listed
    assert does_not_exist(reset)
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)


def test_setting_a_password_in_the_admin_ends_every_session_of_that_user(alice, bob):
    bobs = browser_for(bob)
    bobs_row = row_of(bobs)

    response = browser_for(alice).post(
        f"/admin/accounts/user/{bob.pk}/password/",
        {
            "usable_password": "true",
            "password1": "owner reset this one",
            "password2": "owner reset this one",
        },
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("owner reset this one")
    bobs_row.refresh_from_db()
    assert bobs_row.revoked_reason == RevokedReason.PASSWORD_CHANGE
    assert bobs.get("/settings/security/")["Location"].startswith("/login/?reason=session_expired")
    changed = AuditEvent.objects.get(action="password.changed")
    assert (changed.user, changed.details["revoked_count"]) == (bob, 1)


def test_a_password_set_in_the_admin_is_audited_as_the_owner_and_their_ip(alice, bob):
    response = browser_for(alice).post(
        f"/admin/accounts/user/{bob.pk}/password/",
        {
            "usable_password": "true",
            "password1": "owner reset this one",
            "password2": "owner reset this one",
        },
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="password.changed")
    assert (changed.user, changed.actor, changed.ip) == (bob, alice, "203.0.113.9")
    assert changed.target == f"user:{bob.pk}"


def test_a_raw_id_input_names_and_offers_only_rows_of_the_owner_account(alice, bob, carol, rf):
    class SessionsByUserId(AccountScopedAdmin):
        raw_id_fields = ("user",)

    request = rf.get("/admin/")
    request.user = alice
    field = SessionsByUserId(Session, admin.site).formfield_for_foreignkey(
        Session._meta.get_field("user"), request
    )

    assert set(field.queryset) == {alice, bob}
    assert field.widget.label_and_url_for_value(carol.pk) == ("", "")
    assert field.widget.label_and_url_for_value("abc") == ("", "")
    assert field.widget.label_and_url_for_value("99999999999999999999") == ("", "")
    assert field.widget.label_and_url_for_value(bob.pk)[0] == "bob"


def test_the_users_list_costs_the_same_queries_for_3_or_30_users(
    alice, bob, django_assert_max_num_queries
):
    owner = browser_for(alice)
    owner.get("/admin/accounts/user/")
    User.objects.create_user(username="u1", email="u1@acme.example", account=alice.account)
    with CaptureQueriesContext(connection) as three:
        assert owner.get("/admin/accounts/user/").status_code == 200
    for n in range(2, 29):
        User.objects.create_user(
            username=f"u{n}", email=f"u{n}@acme.example", account=alice.account
        )

    with django_assert_max_num_queries(len(three.captured_queries)):
        response = owner.get("/admin/accounts/user/")

    assert "30 users" in response.content.decode()


def test_a_superuser_sees_and_places_users_of_every_account(root, alice, carol, globex):
    platform = browser_for(root)

    listed = platform.get("/admin/accounts/user/").content.decode()
    moved = platform.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            **user_form(alice),
            "account": str(globex.pk),
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert "alice@acme.example" in listed
    assert "carol@globex.example" in listed
    assert moved.status_code == 302
    alice.refresh_from_db()
    assert alice.account == globex
    assert alice.is_staff  # still an owner: the role decides


# The account and its policy


def test_an_owner_sees_only_their_own_account(alice, carol):
    owner = browser_for(alice)

    listed = owner.get("/admin/accounts/account/").content.decode()
    searched = owner.get("/admin/accounts/account/?q=Globex").content.decode()

    assert f"/admin/accounts/account/{alice.account_id}/change/" in listed
    assert "Globex" not in listed
    assert f"/admin/accounts/account/{carol.account_id}/change/" not in searched
    assert "0 accounts" in searched


def test_every_admin_url_of_another_account_is_refused(alice, globex):
    owner = browser_for(alice)

    for url in (
        f"/admin/accounts/account/{globex.pk}/change/",
        f"/admin/accounts/account/{globex.pk}/history/",
    ):
        response = owner.get(url)
        assert does_not_exist(response), url
    assert refused_like_own_rows(
        owner,
        f"/admin/accounts/account/{globex.pk}/delete/",
        f"/admin/accounts/account/{alice.account_id}/delete/",
    )
    posted = owner.post(f"/admin/accounts/account/{globex.pk}/change/", policy_form(5, 15))

    assert does_not_exist(posted)
    globex.refresh_from_db()
    assert globex.session_idle_minutes is None
    assert policy_events() == []


def test_the_autocomplete_offers_only_the_owner_account_and_users(alice, bob, carol):
    owner = browser_for(alice)

    accounts = owner.get(
        "/admin/autocomplete/?app_label=accounts&model_name=user&field_name=account"
    ).json()
    users = owner.get(
        "/admin/autocomplete/?app_label=user_sessions&model_name=session&field_name=user"
    ).json()
    searched = owner.get(
        "/admin/autocomplete/?app_label=user_sessions&model_name=session&field_name=user&term=car"
    ).json()

    assert [result["text"] for result in accounts["results"]] == ["Acme"]
    assert sorted(result["text"] for result in users["results"]) == ["alice", "bob"]
    assert searched["results"] == []


def test_the_autocomplete_searches_without_nul_bytes(alice, bob):
    # PostgreSQL text cannot hold a NUL byte: left in, the search fails there.
    response = browser_for(alice).get(
        "/admin/autocomplete/?app_label=user_sessions&model_name=session&field_name=user"
        "&term=b%00ob"
    )

    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["bob"]


@pytest.mark.parametrize(
    ("idle", "absolute", "field"),
    [
        (4, "", "session_idle_minutes"),
        (43201, "", "session_idle_minutes"),
        ("", 14, "session_absolute_minutes"),
        ("", 129601, "session_absolute_minutes"),
        (43200, "", "session_idle_minutes"),  # longer than the default absolute limit
        (600, 480, "session_idle_minutes"),
        ("", 30, "session_absolute_minutes"),  # shorter than the default idle limit
        ("ten", "", "session_idle_minutes"),
        (-5, "", "session_idle_minutes"),
    ],
)
def test_a_policy_out_of_bounds_is_a_field_error_and_nothing_is_saved_or_audited(
    alice, idle, absolute, field
):
    response = browser_for(alice).post(
        f"/admin/accounts/account/{alice.account_id}/change/", policy_form(idle, absolute)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    account = Account.objects.get(pk=alice.account_id)
    assert (account.session_idle_minutes, account.session_absolute_minutes) == (None, None)
    assert policy_events() == []


def test_a_valid_policy_round_trips_and_is_audited_like_the_page(alice):
    owner = browser_for(alice)

    response = owner.post(
        f"/admin/accounts/account/{alice.account_id}/change/", policy_form(15, 480)
    )

    assert response.status_code == 302
    account = Account.objects.get(pk=alice.account_id)
    assert (account.session_idle_minutes, account.session_absolute_minutes) == (15, 480)
    [event] = policy_events()
    assert event.actor == alice
    assert event.account == account
    assert event.details["old"] == {"idle_minutes": None, "absolute_minutes": None}
    assert event.details["new"] == {"idle_minutes": 15, "absolute_minutes": 480}
    assert event.details["effective"] == {"idle_minutes": 15, "absolute_minutes": 480}
    page = owner.get(f"/admin/accounts/account/{alice.account_id}/change/").content.decode()
    assert 'value="15"' in page
    assert 'value="480"' in page


def test_clearing_the_overrides_goes_back_to_the_system_defaults(alice, acme):
    acme.session_idle_minutes, acme.session_absolute_minutes = 15, 480
    acme.save()

    response = browser_for(alice).post(f"/admin/accounts/account/{acme.pk}/change/", policy_form())

    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.session_idle_minutes, acme.session_absolute_minutes) == (None, None)
    [event] = policy_events()
    assert event.details["effective"] == {"idle_minutes": 60, "absolute_minutes": 10080}


def test_an_owner_cannot_rename_their_account(alice, acme):
    response = browser_for(alice).post(
        f"/admin/accounts/account/{acme.pk}/change/", policy_form(name="Evil Corp")
    )

    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_a_superuser_sees_every_account(root, acme, globex):
    page = browser_for(root).get("/admin/accounts/account/").content.decode()

    assert "Acme" in page
    assert "Globex" in page


# A change needs a recent password


def test_a_change_with_a_stale_password_asks_for_it_and_changes_nothing(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        response = owner.post(
            f"/admin/accounts/account/{alice.account_id}/change/", policy_form(15, 480)
        )
        wrong = owner.post(
            f"/admin/accounts/account/{alice.account_id}/change/",
            policy_form(15, 480, reauth_password="not my password"),
        )

    assert response.status_code == wrong.status_code == 200
    assert "Confirm it" in response.content.decode()
    assert 'name="session_idle_minutes" value="15"' in response.content.decode()
    assert "That is not your password." in wrong.content.decode()
    account = Account.objects.get(pk=alice.account_id)
    assert account.session_idle_minutes is None
    assert policy_events() == []


def test_a_stale_password_prompt_never_writes_the_new_users_password_back(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        response = owner.post(
            "/admin/accounts/user/add/",
            {
                "username": "dave",
                "email": "dave@acme.example",
                "usable_password": "true",
                "password1": "a password only dave should know",
                "password2": "a password only dave should know",
            },
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm it" in page
    assert 'value="dave"' in page
    assert "a password only dave should know" not in page
    assert not User.objects.filter(username="dave").exists()


def test_the_right_password_carries_on_with_the_change(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        response = owner.post(
            f"/admin/accounts/account/{alice.account_id}/change/",
            policy_form(15, 480, reauth_password=PASSWORD),
        )

    assert response.status_code == 302
    account = Account.objects.get(pk=alice.account_id)
    assert account.session_idle_minutes == 15
    assert [event.action for event in AuditEvent.objects.order_by("id")][-2:] == [
        "session.reauthenticated",
        "account.session_policy_update",
    ]
