"""SELECTs whose SQL is built once per database connection, then run with new values.

Building a statement from a queryset (resolving its joins, filters, expressions,
select list and converters) takes longer than PostgreSQL takes to answer it over
an index, and the hot paths built the same few statements on every request. The
SQL of such a query depends only on its shape, never on the values it looks up, so
it is compiled once with sentinel values standing in for them, and each run puts the
real values where the sentinels were. Rows come back as the queryset would have
returned them: model instances (``select_related`` included) or, for ``values()``,
dicts."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators

# Values no statement holds as a constant, so that each one found among the compiled
# parameters is a slot for the value it stands for. Two slots of one type take
# different sentinels (SENTINEL_ID - 1, …): a shared one is refused when compiled.
SENTINEL_ID = -7_316_421
SENTINEL_TIME = datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
SENTINEL_TEXT = "\x00sentinel"


class _Statement:
    """``queryset`` compiled for ``connection``, with the positions of each slot's
    sentinel among its parameters."""

    def __init__(
        self,
        queryset: QuerySet,
        slots: dict[str, tuple[Field, Any]],
        connection: BaseDatabaseWrapper,
    ) -> None:
        compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = {}
        taken: set[int] = set()
        for name, (field, sentinel) in slots.items():
            prepared = field.get_db_prep_value(sentinel, connection)
            positions = [index for index, value in enumerate(self.params) if value == prepared]
            if not positions:
                raise ValueError(f"{name!r} is not a parameter of {self.sql}")
            # A position claimed twice would take the later slot's value for both: a
            # user's id replaced by a cursor's, and another user's rows read.
            if taken.intersection(positions):
                raise ValueError(f"{name!r} shares its sentinel with another slot")
            taken.update(positions)
            self.slots[name] = (field, positions)
        select = compiler.select
        self.converters = list(
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]).items()
        )
        klass_info = compiler.klass_info
        if klass_info is None:
            query = queryset.query
            self.model = None
            # As Django's ValuesIterable names them.
            self.names = (
                list(query.selected)
                if query.selected
                else [
                    *query.extra_select,
                    *query.values_select,
                    *query.annotation_select,
                ]
            )
            return
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model = klass_info["model"]
        self.columns = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, connection.alias)

    def run(self, connection: BaseDatabaseWrapper, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for name, (field, positions) in self.slots.items():
            if values[name] is None:
                # The queryset would have written IS NULL; "= NULL" matches nothing.
                raise ValueError(f"{name!r} is None")
            prepared = field.get_db_prep_value(values[name], connection)
            for position in positions:
                params[position] = prepared
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return [self._result(list(row), connection) for row in rows]

    def _result(self, row: list[Any], connection: BaseDatabaseWrapper) -> Any:
        for position, (converters, expression) in self.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        if self.model is None:
            return dict(zip(self.names, row, strict=True))
        obj = self.model.from_db(connection.alias, self.init_list, row[self.columns])
        for populator in self.related_populators:
            populator.populate(row, obj)
        return obj


class CompiledQuery:
    """A query of ``model`` built by ``build(**values)``, compiled on first use in each
    thread (each has a connection of its own, and a statement keeps its connection's
    converters). ``slots`` name each value: the field it is prepared as, and a
    sentinel of that field's type (SENTINEL_ID, SENTINEL_TIME, SENTINEL_TEXT), each
    slot's its own. ``build`` only passes its arguments into filters: anything it works
    out from them, or from settings, is fixed by the first call. Give the values by
    name to ``rows``."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        **slots: tuple[str, Any],
    ) -> None:
        self.model = model
        self.build = build
        self.slots = slots
        self._per_thread = threading.local()

    def rows(self, **values: Any) -> list[Any]:
        """The rows the queryset built from ``values`` returns, in its order."""
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        statements = self._per_thread.__dict__
        statement = statements.get(alias)
        if statement is None:
            fields = {
                name: (self.model._meta.get_field(field), sentinel)
                for name, (field, sentinel) in self.slots.items()
            }
            queryset = self.build(**{name: sentinel for name, (_, sentinel) in fields.items()})
            statement = statements[alias] = _Statement(queryset, fields, connection)
        return statement.run(connection, values)

    def first(self, **values: Any) -> Any:
        """The single row ``values`` select (the queryset's own filters make it
        unique), or None."""
        rows = self.rows(**values)
        return rows[0] if rows else None
