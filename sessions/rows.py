"""The session row a request presents, read with its user and the user's account in one
statement whose SQL is built once per database connection.

Building that statement from a queryset (resolving the joins, the select list and
the converters of forty columns) took longer than running it, and every signed-in
request paid for it. The SQL depends only on the model and the database, never on
the key looked up, so it is compiled once and then executed with the new key."""

import threading
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Field, QuerySet
from django.db.models.query import get_related_populators

from sessions.models import Session


class _CompiledLookup:
    """One SELECT compiled from ``queryset``, whose parameter ``param_index`` is the value
    looked up, ready to run again with another value of ``field``."""

    def __init__(self, queryset: QuerySet, field: Field, sentinel: Any, connection: Any) -> None:
        compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.field = field
        self.param_index = self.params.index(field.get_db_prep_value(sentinel, connection))
        select = compiler.select
        klass_info = compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model = klass_info["model"]
        self.columns = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, connection.alias)
        self.converters = list(
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]).items()
        )

    def fetch(self, value: Any, connection: Any) -> Any:
        params = list(self.params)
        params[self.param_index] = self.field.get_db_prep_value(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (converters, expression) in self.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        obj = self.model.from_db(connection.alias, self.init_list, row[self.columns])
        for populator in self.related_populators:
            populator.populate(row, obj)
        return obj


# Per thread: a compiled lookup keeps its connection's converters, and each thread has
# a connection of its own.
_compiled = threading.local()


def _lookup(name: str, build: Callable[[Any], QuerySet], field: Field, sentinel: Any) -> Any:
    alias = router.db_for_read(Session)
    connection = connections[alias]
    cache = _compiled.__dict__.setdefault(alias, {})
    lookup = cache.get(name)
    if lookup is None:
        lookup = cache[name] = _CompiledLookup(build(sentinel), field, sentinel, connection)
    return lookup, connection


def _browser_queryset(key_hash: str) -> QuerySet:
    # No ORDER BY and no LIMIT: key_hash is unique.
    return Session.objects.select_related("user__account").filter(key_hash=key_hash)


def _api_queryset(session_id: uuid.UUID) -> QuerySet:
    return Session.objects.select_related("user__account").filter(
        pk=session_id, kind=Session.Kind.API
    )


def browser_session_row(key_hash: str) -> Session | None:
    """The session row whose cookie key hashes to ``key_hash``, with ``user`` and
    ``user.account`` loaded, or None; one statement."""
    lookup, connection = _lookup(
        "browser", _browser_queryset, Session._meta.get_field("key_hash"), "\x00sentinel"
    )
    return lookup.fetch(key_hash, connection)


def api_session_row(session_id: uuid.UUID) -> Session | None:
    """The API session ``session_id``, with ``user`` and ``user.account`` loaded, or
    None; one statement."""
    lookup, connection = _lookup("api", _api_queryset, Session._meta.pk, uuid.UUID(int=0))
    return lookup.fetch(session_id, connection)
