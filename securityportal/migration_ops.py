"""Schema changes a live database takes without holding up the requests it serves."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.state import ProjectState


class DropIndexConcurrently(Operation):
    """Drop the index ``name`` of ``table``; reversed, build it on ``column`` again
    (with the operator class ``opclass``, if given).

    On PostgreSQL both run CONCURRENTLY. A plain DROP INDEX takes the table's strongest
    lock: it waits for every open transaction that has read the table, and every
    statement after it waits behind it, each signed-in request's session lookup
    included. A migration that uses this sets ``atomic = False``.

    The index is one the models' state does not hold (a foreign key's own index whose
    field now says ``db_index=False``, or the ``_like`` index Django adds to a unique
    text column on PostgreSQL), so the state is left as it is. An index with an
    operator class exists on PostgreSQL alone: elsewhere there is none to drop, and
    none is built when reversed. Its SQL is what ``sqlmigrate`` shows."""

    category = OperationCategory.REMOVAL

    def __init__(self, name: str, *, table: str, column: str, opclass: str | None = None) -> None:
        self.name = name
        self.table = table
        self.column = column
        self.opclass = opclass

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        keywords: dict[str, Any] = {"table": self.table, "column": self.column}
        if self.opclass is not None:
            keywords["opclass"] = self.opclass
        return self.__class__.__qualname__, [self.name], keywords

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        quoted = schema_editor.quote_name(self.name)
        schema_editor.execute(f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {quoted}")

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.opclass is not None and schema_editor.connection.vendor != "postgresql":
            return
        # A concurrent build that failed leaves an invalid index of that name: drop it
        # rather than keep it as if built.
        self.database_forwards(app_label, schema_editor, from_state, to_state)
        quote = schema_editor.quote_name
        key = (
            quote(self.column) if self.opclass is None else f"{quote(self.column)} {self.opclass}"
        )
        schema_editor.execute(
            f"CREATE INDEX {_concurrently(schema_editor)}{quote(self.name)} "
            f"ON {quote(self.table)} ({key})"
        )

    def describe(self) -> str:
        return f"Drop index {self.name} of {self.table} (concurrently on PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_{self.name.lower()}"


def _concurrently(schema_editor: BaseDatabaseSchemaEditor) -> str:
    if schema_editor.connection.vendor != "postgresql":
        return ""
    if schema_editor.atomic_migration:
        # PostgreSQL refuses CONCURRENTLY inside a transaction. squashmigrations
        # does not carry atomic = False over to the migration it writes.
        raise ImproperlyConfigured(
            "DropIndexConcurrently runs only in a migration with atomic = False."
        )
    return "CONCURRENTLY "
