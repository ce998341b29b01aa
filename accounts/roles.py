"""What a role grants beyond the portal's pages: owners are staff, and the "Account owners"
group gives them exactly the admin permissions their account's rows need.

The admin's own tenant scoping (``accounts.admin_scope``) limits *which* rows; these
permissions limit *what* an owner may do with them."""

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User

OWNER_GROUP = "Account owners"
# (app label, permission codename). The data migration 0003_owner_group creates the
# group with these; a test checks that the two lists agree.
OWNER_PERMISSIONS = (
    # Adding: new users always join the owner's own account (accounts.admin).
    ("accounts", "add_user"),
    ("accounts", "view_user"),
    ("accounts", "change_user"),
    ("accounts", "view_account"),
    ("accounts", "change_account"),
    ("user_sessions", "view_session"),
    ("audit", "view_loginevent"),
    ("audit", "view_auditevent"),
)


def owner_group() -> Group:
    """The owners' group, created with its permissions if it is missing (a database
    flushed after its migrations ran has the permissions but not the group)."""
    group, created = Group.objects.get_or_create(name=OWNER_GROUP)
    if created:
        wanted = Q()
        for app_label, codename in OWNER_PERMISSIONS:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
    return group


def staff_for(user: "User") -> bool:
    """Staff status as the role implies it: owners and superusers, never members."""
    return user.is_superuser or user.is_owner


def sync_owner_group(user: "User") -> None:
    """Put an owner in the owners' group and take anyone else out of it."""
    if user.is_owner:
        user.groups.add(owner_group())
    else:
        user.groups.remove(*Group.objects.filter(name=OWNER_GROUP))
