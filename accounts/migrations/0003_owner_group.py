"""The "Account owners" group: the admin permissions an owner needs for their own
account's rows (the admin scopes them to that account). Existing owners join it and
become staff; nobody else is staff unless a superuser.

A snapshot of accounts.roles.OWNER_PERMISSIONS at the time of writing (a migration
must not change when the code does); accounts/tests/test_admin.py checks they agree."""

from django.db import migrations

OWNER_GROUP = "Account owners"
# (app label, model, verbose name, actions)
PERMISSIONS = [
    ("accounts", "user", "user", ("add", "view", "change")),
    ("accounts", "account", "account", ("view", "change")),
    ("user_sessions", "session", "session", ("view",)),
    ("audit", "loginevent", "login event", ("view",)),
    ("audit", "auditevent", "audit event", ("view",)),
]


def create_owner_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("accounts", "User")
    # Django creates permissions after the last migration has run; on a fresh
    # database they do not exist yet, so the ones the group needs are made here.
    permissions = []
    for app_label, model, verbose_name, actions in PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        for action in actions:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model}",
                defaults={"name": f"Can {action} {verbose_name}"},
            )
            permissions.append(permission)
    group, _ = Group.objects.get_or_create(name=OWNER_GROUP)
    group.permissions.set(permissions)
    owners = User.objects.filter(role="owner")
    group.user_set.add(*owners)
    owners.update(is_staff=True)
    User.objects.exclude(role="owner").filter(is_superuser=False).update(is_staff=False)


def remove_owner_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=OWNER_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_manager_takes_email"),
        ("audit", "0002_login_event"),
        ("user_sessions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_owner_group, remove_owner_group)]
