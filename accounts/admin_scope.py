"""Tenant isolation for the Django admin. Every ModelAdmin of the portal is an
``AccountScopedAdmin``: an account owner reaches the rows of their own account and no
other, through every door the admin has; a superuser reaches everything.

The doors, and what closes each:
- lists, change/delete/history URLs, actions (they act on the list's queryset):
  ``get_queryset``; a row of another account is "does not exist";
- a history page's entries: those made by people of the owner's account
  (``get_paginator``), so a moved user's page does not show another account's;
- search and autocomplete (autocomplete searches the related model's admin):
  ``get_search_results``;
- list filters: choices from a fixed set (kind, outcome, date ranges), never from
  the table, so no filter can list another account's users; the one relation
  filter (a superuser's account filter on users) is ``RelatedOnlyFieldListFilter``;
- the query string: only the parameters the list's own filters and date links
  write (``lookup_allowed``); any other lookup is refused;
- foreign-key and many-to-many inputs (dropdowns, raw-id inputs and their popups):
  the related model's scoped queryset, or nothing when no scope is known;
- ids sent back (an action's ticked rows, a relation input's value): checked
  against their column before any lookup (``holds``);
- the permission checks themselves refuse another account's row."""

from datetime import MAXYEAR
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    ForeignKeyRawIdWidget,
    url_params_from_lookup_dict,
)
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django.utils.text import smart_split

# What Django's field list filters write after the field's path: a choice, a
# yes/no, empty or not, a date range. A relation's filter adds "__<target>__exact".
FILTER_SUFFIXES = ("", "__exact", "__isnull", "__isempty", "__gte", "__lt")
DATE_PARTS = ("year", "month", "day")
# PostgreSQL text cannot hold this byte: a query carrying it fails at the database.
NUL = "\x00"
# A name, an e-mail address, a device and an address fit in far fewer.
SEARCH_WORDS_MAX = 20
SEARCH_CHARACTERS_MAX = 200


class CappedPaginator(Paginator):
    """Counts the list's rows only up to ``CAP``: counting a million sign-in attempts
    on every page view costs more than the page itself. Past the cap the list says
    "more than 10,000" and offers the pages up to it; a search or a filter narrows
    it down. The count walks the list's own ORDER BY, so its index bounds the read."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    @cached_property
    def num_pages(self) -> int:
        if not self.capped:
            return super().num_pages
        return max(1, self.CAP // self.per_page)


def holds(key: models.Field, value: Any) -> bool:
    """Whether ``value``, as a browser sent it, is a valid value of the key ``key``:
    of its type, within its column's range, passing its validators. The admin looks
    some submitted ids up as sent, and one the column cannot hold ("abc" for a number
    or a UUID, a number past the column's range) fails at the database: a server
    error where the visitor should hear that the value is not valid."""
    try:
        key.run_validators(key.to_python(value))
    except ValidationError:
        return False
    return True


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """Django's raw-id input names the row whose id was typed, looked up in the whole
    table: typing ids of another account would reveal its users' names one by one.
    This one names only rows of ``queryset``."""

    def __init__(self, rel: Any, admin_site: admin.AdminSite, queryset: models.QuerySet, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field()
        if not holds(key, value) or not self.queryset.filter(**{key.name: value}).exists():
            return "", ""
        return super().label_and_url_for_value(value)


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete input, which redraws a refused form by looking the
    submitted value up as sent: ``account=abc`` ended in a server error instead of
    the form's "Select a valid choice". A value the key cannot hold is left out."""

    def optgroups(self, name: str, value: list[str], attr: dict | None = None) -> list:
        key = self.field.target_field
        return super().optgroups(name, [each for each in value if holds(key, each)], attr)


class CheckedInputAdmin(admin.ModelAdmin):
    """A ModelAdmin whose search box and row actions refuse, with a 400, what
    Django would pass on to the database as sent: every admin of the portal's site
    is one, Django's own Group admin included."""

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet, search_term: str
    ) -> tuple[models.QuerySet, bool]:
        # The list's search box refuses a NUL byte; autocomplete passes its term as sent.
        search_term = search_term.replace(NUL, "")
        # Each word is one more condition on every search field: a thousand words
        # overflowed SQLite's expression depth, and a 50,000-character one its LIKE
        # pattern limit, server errors passed off as an outage.
        if len(search_term) > SEARCH_CHARACTERS_MAX:
            raise BadRequest(f"A search takes at most {SEARCH_CHARACTERS_MAX} characters.")
        if len(list(smart_split(search_term))) > SEARCH_WORDS_MAX:
            raise BadRequest(f"A search takes at most {SEARCH_WORDS_MAX} words.")
        return super().get_search_results(request, queryset, search_term)

    def response_action(
        self, request: HttpRequest, queryset: models.QuerySet
    ) -> HttpResponse | None:
        # Django finds the ticked rows by their ids as sent (a pk__in filter): an id
        # the key cannot hold ended in a server error.
        key = self.model._meta.pk
        if not all(holds(key, value) for value in request.POST.getlist(ACTION_CHECKBOX_NAME)):
            raise BadRequest("A selected row's id is not valid.")
        return super().response_action(request, queryset)


class AccountScopedAdmin(CheckedInputAdmin):
    """A ModelAdmin showing an owner only their own account's rows.

    ``account_path`` leads from a row to its account as a lookup: "account" for
    rows with an account column, "user__account" through the user, "pk" for the
    Account itself."""

    account_path = "account"
    paginator = CappedPaginator
    # One count per page, not two: "N of M" needs a second full count of the
    # table, which at a million rows costs more than the page itself.
    show_full_result_count = False

    @staticmethod
    def sees_every_account(request: HttpRequest) -> bool:
        return request.user.is_superuser

    def scope(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        """``queryset`` cut to the rows ``request``'s user may reach."""
        if self.sees_every_account(request):
            return queryset
        account_id = request.user.account_id
        if account_id is None:
            return queryset.none()
        return queryset.filter(**{self.account_path: account_id})

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return self.scope(request, super().get_queryset(request))

    def get_paginator(
        self, request: HttpRequest, queryset: models.QuerySet, *args: Any, **kwargs: Any
    ) -> Paginator:
        if queryset.model is LogEntry and not self.sees_every_account(request):
            # The history page hands its entries here (Django has no other hook): an
            # object's history is every entry for its id, and a user moved from
            # another account brings the changes that account's owners made, with
            # their names. An owner sees the entries of people of their own account.
            queryset = queryset.filter(user__account_id=request.user.account_id)
        return super().get_paginator(request, queryset, *args, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet, search_term: str
    ) -> tuple[models.QuerySet, bool]:
        # Autocomplete and the list both pass a scoped queryset; scoping again costs
        # nothing and keeps a future caller that passes a raw one from leaking.
        return super().get_search_results(request, self.scope(request, queryset), search_term)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Only the parameters the list's own filters and date links write, for
        everyone. Django takes any lookup on the model's own columns: with it,
        ``?key_hash__startswith=`` or ``?session_data__contains=`` would let whoever
        sees the list guess a secret one character at a time, and a value the
        column cannot hold (``?idle_timeout=zz``) would end in a server error.

        Refused names answer 400; a bad value for a filter the list has answers the
        admin's usual redirect to ``?e=1`` (``IncorrectLookupParameters``)."""
        if self.popup_lookup(lookup, value):
            return True
        if lookup not in self.filter_parameters(request):
            return False
        if NUL in value:
            raise IncorrectLookupParameters(f"{lookup} holds a NUL byte.")
        if self.date_hierarchy and lookup == f"{self.date_hierarchy}__year":
            try:
                last_year = int(value) >= MAXYEAR
            except ValueError:
                last_year = False  # the changelist refuses it itself
            if last_year:
                # Its range would end in a year Python cannot represent.
                raise IncorrectLookupParameters(f"{lookup} is out of range.")
        return True

    def filter_parameters(self, request: HttpRequest) -> set[str]:
        """The query parameters the list's filters and date links may write."""
        names = set()
        if self.date_hierarchy:
            names.update(f"{self.date_hierarchy}__{part}" for part in DATE_PARTS)
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                names.add(item.parameter_name)
                continue
            path = item[0] if isinstance(item, (list, tuple)) else item
            names.update(path + suffix for suffix in FILTER_SUFFIXES)
            field = get_fields_from_path(self.model, path)[-1]
            if field.is_relation:
                names.add(f"{path}__{field.target_field.name}__exact")
        return names

    def popup_lookup(self, lookup: str, value: str) -> bool:
        """Whether the pair is one a raw-id popup sends to honour a foreign key's
        ``limit_choices_to`` (fixed in code, so nothing a visitor can choose)."""
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def account_id_of(self, obj: models.Model) -> int | None:
        *hops, last = self.account_path.split("__")
        for hop in hops:
            obj = getattr(obj, hop)
            if obj is None:
                return None
        return obj.pk if last == "pk" else getattr(obj, f"{last}_id")

    def in_scope(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is None or self.sees_every_account(request):
            return True
        account_id = request.user.account_id
        return account_id is not None and self.account_id_of(obj) == account_id

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)

    def choices_for(
        self, request: HttpRequest, model: type[models.Model]
    ) -> models.QuerySet | None:
        """The rows of ``model`` a relation input may offer: its own admin's scoped
        list, everything for a superuser (None: Django's default), else nothing (a
        model without a scope is not the owner's to pick from)."""
        try:
            related_admin = self.admin_site.get_model_admin(model)
        except NotRegistered:
            related_admin = None
        if isinstance(related_admin, AccountScopedAdmin):
            return related_admin.get_queryset(request)
        if self.sees_every_account(request):
            return None
        return model._default_manager.none()

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if "queryset" not in kwargs:
            choices = self.choices_for(request, db_field.remote_field.model)
            if choices is not None:
                kwargs["queryset"] = choices
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        elif "widget" not in kwargs and db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedRawIdWidget(
                db_field.remote_field,
                self.admin_site,
                kwargs.get("queryset", db_field.remote_field.model._default_manager.all()),
                using=kwargs.get("using"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if "queryset" not in kwargs:
            choices = self.choices_for(request, db_field.remote_field.model)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)
