"""Schema changes a live database takes without holding up the requests it serves."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def drop_index(
    name: str, *, table: str, column: str, opclass: str | None = None
) -> migrations.RunPython:
    """Drop the index ``name`` of ``table``; reversed, build it on ``column`` again
    (with the operator class ``opclass``, if given).

    On PostgreSQL both run CONCURRENTLY. A plain DROP INDEX takes the table's strongest
    lock: it waits for every open transaction that has read the table, and every
    statement after it waits behind it, each signed-in request's session lookup
    included. A migration that uses this sets ``atomic = False``.

    An index with an operator class is one Django makes on PostgreSQL alone (the
    ``_like`` index of a unique or indexed text column): on any other database there
    is none to drop, and none is built when reversed."""

    def postgresql(schema_editor: BaseDatabaseSchemaEditor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def concurrently(schema_editor: BaseDatabaseSchemaEditor) -> str:
        return "CONCURRENTLY " if postgresql(schema_editor) else ""

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        quoted = schema_editor.quote_name(name)
        schema_editor.execute(f"DROP INDEX {concurrently(schema_editor)}IF EXISTS {quoted}")

    def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if opclass is not None and not postgresql(schema_editor):
            return
        # A concurrent build that failed leaves an invalid index of that name: drop it
        # rather than keep it as if built.
        forwards(apps, schema_editor)
        quote = schema_editor.quote_name
        key = quote(column) if opclass is None else f"{quote(column)} {opclass}"
        schema_editor.execute(
            f"CREATE INDEX {concurrently(schema_editor)}{quote(name)} ON {quote(table)} ({key})"
        )

    return migrations.RunPython(forwards, backwards)
