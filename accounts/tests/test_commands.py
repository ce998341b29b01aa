"""manage.py create_account / create_user / seed_demo: what an operator sees, and that a
refused command leaves nothing half-created."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, User
from audit.models import AuditEvent
from sessions.models import Session

NEW_PASSWORD = "tangerine lighthouse gravel"


@pytest.fixture
def portal_password(monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", NEW_PASSWORD)


def create_account(name: str = "Initech", **options: str) -> str:
    out = StringIO()
    options = {"owner": "peter", "email": "peter@initech.example", **options}
    call_command("create_account", name, interactive=False, stdout=out, **options)
    return out.getvalue()


def create_user(username: str = "milton", **options: str) -> str:
    out = StringIO()
    options = {"account": "Acme", "email": "milton@acme.example", **options}
    call_command("create_user", username, interactive=False, stdout=out, **options)
    return out.getvalue()


def test_create_account_makes_the_account_and_its_owner(db, portal_password):
    output = create_account()

    assert "Initech" in output
    account = Account.objects.get(name="Initech")
    peter = User.objects.get(username="peter")
    assert peter.account == account
    assert peter.role == "owner"
    assert peter.email == "peter@initech.example"
    assert peter.is_active
    assert peter.has_usable_password()
    assert peter.check_password(NEW_PASSWORD)
    assert NEW_PASSWORD not in output


def test_the_new_owner_can_sign_in(db, portal_password, client):
    create_account()

    response = client.post("/login/", {"username": "peter", "password": NEW_PASSWORD})

    assert response.status_code == 302


@pytest.mark.parametrize("role", ["member", "owner"])
def test_create_user_adds_a_user_with_the_given_role(acme, portal_password, role):
    output = create_user(role=role)

    assert "milton" in output
    milton = User.objects.get(username="milton")
    assert milton.account == acme
    assert milton.role == role
    assert milton.check_password(NEW_PASSWORD)


def test_create_user_makes_a_member_unless_told_otherwise(acme, portal_password):
    create_user()

    assert User.objects.get(username="milton").role == "member"


def test_create_user_finds_the_account_whatever_its_case(acme, portal_password):
    create_user(account="ACME")

    assert User.objects.get(username="milton").account == acme


def test_create_account_refuses_a_taken_name_in_any_case(acme, portal_password):
    with pytest.raises(CommandError, match="An account named 'ACME' already exists"):
        create_account("ACME")

    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]
    assert not User.objects.filter(username="peter").exists()


@pytest.mark.parametrize("username", ["alice", "ALICE"])
def test_create_account_refuses_a_taken_username_and_creates_no_account(
    alice, portal_password, username
):
    with pytest.raises(CommandError, match=f"A user named '{username}' already exists"):
        create_account(owner=username)

    assert not Account.objects.filter(name="Initech").exists()
    assert User.objects.count() == 1


def test_create_account_refuses_a_taken_email_in_any_case(alice, portal_password):
    with pytest.raises(CommandError, match=r"e-mail 'Alice@ACME\.example' already exists"):
        create_account(email="Alice@ACME.example")

    assert not Account.objects.filter(name="Initech").exists()
    assert not User.objects.filter(username="peter").exists()


def test_create_user_refuses_a_taken_username_in_any_case(alice, portal_password):
    with pytest.raises(CommandError, match="A user named 'Alice' already exists"):
        create_user("Alice")

    assert User.objects.count() == 1


def test_create_user_refuses_a_taken_email_in_any_case(alice, portal_password):
    with pytest.raises(CommandError, match=r"e-mail 'ALICE@acme\.example' already exists"):
        create_user(email="ALICE@acme.example")

    assert not User.objects.filter(username="milton").exists()


def test_create_user_refuses_an_unknown_account(acme, portal_password):
    with pytest.raises(CommandError, match="There is no account named 'Initrode'"):
        create_user(account="Initrode")

    assert not User.objects.filter(username="milton").exists()
    assert not Account.objects.filter(name="Initrode").exists()


def test_create_user_refuses_an_unknown_role(acme, portal_password):
    with pytest.raises(CommandError, match="Role must be one of owner, member"):
        create_user(role="admin")

    assert not User.objects.filter(username="milton").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt&Sw33t", "too short. It must contain at least 12 characters"),
        ("password1234", "too common"),
        ("384729105638", "entirely numeric"),
    ],
    ids=["eleven-characters", "common", "numeric"],
)
def test_create_account_refuses_a_weak_password_and_creates_nothing(
    db, monkeypatch, password, message
):
    monkeypatch.setenv("PORTAL_PASSWORD", password)

    with pytest.raises(CommandError, match=message):
        create_account()

    assert not Account.objects.exists()
    assert not User.objects.exists()


def test_create_user_refuses_a_weak_password_and_creates_nothing(acme, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "Sh0rt&Sw33t")

    with pytest.raises(CommandError, match="at least 12 characters"):
        create_user()

    assert not User.objects.exists()


def test_create_account_refuses_a_password_resembling_the_username(db, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "peter@initech.example")

    with pytest.raises(CommandError, match="too similar"):
        create_account()

    assert not Account.objects.exists()


def test_create_account_refuses_a_username_with_an_at_sign(db, portal_password):
    with pytest.raises(CommandError, match="no @"):
        create_account(owner="peter@initech.example")

    assert not Account.objects.exists()
    assert not User.objects.exists()


def test_noinput_without_portal_password_says_how_to_fix_it(db, monkeypatch):
    monkeypatch.delenv("PORTAL_PASSWORD", raising=False)

    with pytest.raises(CommandError, match=r"--noinput needs the password in \$PORTAL_PASSWORD"):
        create_account()

    assert not Account.objects.exists()
    assert not User.objects.exists()


def test_create_user_with_noinput_and_an_empty_portal_password_creates_nothing(acme, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "")

    with pytest.raises(CommandError, match="PORTAL_PASSWORD"):
        create_user()

    assert not User.objects.exists()


def test_seed_demo_creates_an_owner_and_a_member_and_prints_their_passwords(db):
    out = StringIO()

    call_command("seed_demo", stdout=out)

    passwords = dict(re.findall(r"^\s+(owner|member)\s+/ (\S+)$", out.getvalue(), re.M))
    owner = User.objects.get(username="owner")
    member = User.objects.get(username="member")
    assert owner.account.name == member.account.name == "Demo"
    assert (owner.role, member.role) == ("owner", "member")
    assert owner.check_password(passwords["owner"])
    assert member.check_password(passwords["member"])


def test_seed_demo_run_twice_creates_nothing_and_prints_no_password(db):
    first = StringIO()
    call_command("seed_demo", stdout=first)
    passwords = re.findall(r"^\s+(?:owner|member)\s+/ (\S+)$", first.getvalue(), re.M)
    owner_hash = User.objects.get(username="owner").password
    second = StringIO()

    call_command("seed_demo", stdout=second)

    assert len(passwords) == 2
    assert "exists already" in second.getvalue()
    assert "seed_demo --reset-passwords" in second.getvalue()
    assert not any(password in second.getvalue() for password in passwords)
    assert Account.objects.count() == 1
    assert User.objects.count() == 2
    assert User.objects.get(username="owner").password == owner_hash


DEMO_PASSWORD_LINE = re.compile(r"^\s+(owner|member)\s+/ (\S+)$", re.M)


def seed_demo(*args: str) -> dict[str, str]:
    """Run seed_demo; the passwords it printed, by username."""
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return dict(DEMO_PASSWORD_LINE.findall(out.getvalue()))


def test_seed_demo_reset_passwords_prints_new_passwords_and_the_old_ones_stop_working(db):
    first = seed_demo()

    second = seed_demo("--reset-passwords")

    assert set(second) == {"owner", "member"}
    for username in ("owner", "member"):
        user = User.objects.get(username=username)
        assert second[username] != first[username]
        assert user.check_password(second[username])
        assert not user.check_password(first[username])
    assert Account.objects.count() == 1
    assert User.objects.count() == 2


def test_seed_demo_reset_passwords_ends_the_demo_users_sessions_and_is_audited(db, client):
    first = seed_demo()
    response = client.post("/login/", {"username": "owner", "password": first["owner"]})
    assert response.status_code == 302
    owner = User.objects.get(username="owner")

    seed_demo("--reset-passwords")

    # A demo password that leaked must not leave its sessions signed in.
    assert client.get("/settings/security/").status_code == 302
    session = Session.objects.get(user=owner)
    assert session.revoked_reason == "password_change"
    assert AuditEvent.objects.filter(action="password.changed", user=owner).count() == 1


def test_seed_demo_reset_passwords_on_a_fresh_database_creates_the_demo_account(db):
    passwords = seed_demo("--reset-passwords")

    assert User.objects.get(username="owner").check_password(passwords["owner"])
    assert User.objects.get(username="member").check_password(passwords["member"])


def test_seed_demo_reset_passwords_without_the_demo_member_changes_nothing_and_says_the_fix(db):
    first = seed_demo()
    User.objects.filter(username="member").delete()

    with pytest.raises(CommandError, match=r"manage\.py create_user member --account Demo"):
        seed_demo("--reset-passwords")

    assert User.objects.get(username="owner").check_password(first["owner"])


def test_seed_demo_where_a_demo_name_is_taken_says_so_and_leaves_the_database_alone(
    db, portal_password
):
    create_account("Other", owner="owner", email="boss@other.example")
    err = StringIO()

    call_command("seed_demo", stdout=StringIO(), stderr=err)

    assert "No demo account was made: A user named 'owner' already exists." in err.getvalue()
    assert list(Account.objects.values_list("name", flat=True)) == ["Other"]
    assert User.objects.count() == 1


def test_asked_for_new_demo_passwords_where_a_demo_name_is_taken_it_fails(db, portal_password):
    create_account("Other", owner="owner", email="boss@other.example")

    with pytest.raises(CommandError, match="A user named 'owner' already exists"):
        call_command("seed_demo", "--reset-passwords", stdout=StringIO())

    assert User.objects.count() == 1


def test_seed_demo_finds_the_demo_account_whatever_its_case(db, portal_password):
    create_account("demo", owner="dana", email="dana@demo.example")
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert "exists already" in out.getvalue()
    assert Account.objects.count() == 1


def test_what_is_printed_is_what_was_created(acme, portal_password):
    # The account as stored, and the account the name matched in any letter case.
    made = create_account("  Initech ")
    added = create_user(account="ACME")

    assert made == "Created account 'Initech' owned by 'peter'.\n"
    assert added == "Created member 'milton' in 'Acme'.\n"


def test_a_prompt_with_nothing_to_read_from_says_how_to_give_the_password(db, monkeypatch):
    # Run from cron or a pipe: no terminal to type the password on.
    def no_terminal(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_terminal)

    with pytest.raises(CommandError, match=r"No password was typed; nothing was created\."):
        call_command("create_account", "Initech", owner="peter", email="peter@initech.example")

    assert not Account.objects.filter(name="Initech").exists()


def test_a_name_another_run_creates_between_the_check_and_the_insert_is_a_clear_error(
    acme, portal_password, monkeypatch
):
    # Two runs at once both find the name free (both checks pass before either
    # inserts); the database's constraint stops the second, which says so instead of
    # printing a traceback.
    monkeypatch.setattr(Account.objects, "named", lambda name: None)
    monkeypatch.setattr(Account, "validate_constraints", lambda self, exclude=None: None)

    with pytest.raises(CommandError, match="created by someone else meanwhile"):
        create_account("ACME")

    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]
    assert not User.objects.filter(username="peter").exists()


def test_a_refused_field_is_named_in_the_error(acme, portal_password):
    with pytest.raises(CommandError, match=r"username: This field cannot be blank\."):
        create_user("")
    with pytest.raises(CommandError, match=r"--owner: Use letters, digits"):
        create_account(owner="pe ter")


def test_an_account_name_is_taken_without_the_blanks_around_it(acme, portal_password):
    with pytest.raises(CommandError, match=r"An account named 'Acme' already exists\."):
        create_account("Acme ")
    with pytest.raises(CommandError, match=r"An account needs a name\."):
        create_account("   ")

    create_account("  Initech ")

    assert Account.objects.filter(name="Initech").exists()
    assert Account.objects.count() == 2


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        (create_account, {"name": "Ac\tme"}),
        (create_account, {"name": "Nu\x00l"}),
        (create_account, {"owner": "pe\x00ter"}),
        (create_user, {"username": "mil\x00ton"}),
        (create_user, {"email": "milton@acme.example\n"}),
        (create_user, {"account": "Ac\x00me"}),
    ],
)
def test_a_control_character_in_a_name_is_refused_before_anything_is_made(
    acme, portal_password, command, arguments
):
    users_before = User.objects.count()

    with pytest.raises(CommandError, match="holds a control character"):
        command(**arguments)

    assert Account.objects.count() == 1
    assert User.objects.count() == users_before
