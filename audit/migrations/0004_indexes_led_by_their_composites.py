"""The audit tables' user and account keys lose their own indexes: each is the first
column of an index that lists a user's or an account's rows newest first."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from securityportal.migration_ops import DropIndexConcurrently


def _key(**options: object) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        **options,
    )


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_owner_group"),
        ("audit", "0003_audit_account_recent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndexConcurrently(
                    "audit_auditevent_account_id_a8d1ad7e",
                    table="audit_auditevent",
                    column="account_id",
                ),
                DropIndexConcurrently(
                    "audit_auditevent_user_id_871f21a9", table="audit_auditevent", column="user_id"
                ),
                DropIndexConcurrently(
                    "audit_loginevent_account_id_c375ce88",
                    table="audit_loginevent",
                    column="account_id",
                ),
                DropIndexConcurrently(
                    "audit_loginevent_user_id_77b0e1df", table="audit_loginevent", column="user_id"
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent", name="account", field=_key(to="accounts.account")
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="user",
                    field=_key(
                        help_text="Whose security the event concerns.",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="loginevent", name="account", field=_key(to="accounts.account")
                ),
                migrations.AlterField(
                    model_name="loginevent", name="user", field=_key(to=settings.AUTH_USER_MODEL)
                ),
            ],
        ),
    ]
