"""The hashed session keys and refresh tokens lose the second index Django gives a
unique text column on PostgreSQL (``varchar_pattern_ops``, for ``LIKE 'prefix%'``).
A hash is only ever looked up whole, through the unique index; nothing searches one
by its prefix (the admin refuses such a filter: accounts.admin_scope)."""

from django.db import migrations

from securityportal.migration_ops import DropIndexConcurrently


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("user_sessions", "0003_indexes_led_by_their_composites"),
    ]

    operations = [
        DropIndexConcurrently(
            "user_sessions_session_key_hash_298c3066_like",
            table="user_sessions_session",
            column="key_hash",
            opclass="varchar_pattern_ops",
        ),
        DropIndexConcurrently(
            "user_sessions_refreshtoken_token_hash_795e8489_like",
            table="user_sessions_refreshtoken",
            column="token_hash",
            opclass="varchar_pattern_ops",
        ),
    ]
