"""Session.account loses its own index: session_account_recent leads with it."""

import django.db.models.deletion
from django.db import migrations, models

from securityportal.migration_ops import DropIndexConcurrently


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_owner_group"),
        ("user_sessions", "0002_session_account_recent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndexConcurrently(
                    "user_sessions_session_account_id_e632910f",
                    table="user_sessions_session",
                    column="account_id",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="session",
                    name="account",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.account",
                    ),
                ),
            ],
        ),
    ]
