"""Tenant isolation for the Django admin. Every ModelAdmin of the portal is an
``AccountScopedAdmin``: an account owner reaches the rows of their own account and no
other, through every door the admin has; a superuser reaches everything.

The doors, and what closes each:
- lists, change/delete/history URLs, actions (they act on the list's queryset):
  ``get_queryset``; a row of another account is "does not exist";
- search and autocomplete (autocomplete searches the related model's admin):
  ``get_search_results``;
- list filters on a relation: ``admin.RelatedOnlyFieldListFilter``, whose choices
  come from the scoped list;
- foreign-key and many-to-many inputs (dropdowns, raw-id inputs and their popups):
  the related model's scoped queryset, or nothing when no scope is known;
- the permission checks themselves refuse another account's row."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """Django's raw-id input names the row whose id was typed, looked up in the whole
    table: typing ids of another account would reveal its users' names one by one.
    This one names only rows of ``queryset``."""

    def __init__(self, rel: Any, admin_site: admin.AdminSite, queryset: models.QuerySet, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            visible = self.queryset.filter(**{key: value}).exists()
        except (ValueError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value) if visible else ("", "")


class AccountScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin showing an owner only their own account's rows.

    ``account_path`` leads from a row to its account as a lookup: "account" for
    rows with an account column, "user__account" through the user, "pk" for the
    Account itself."""

    account_path = "account"

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

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet, search_term: str
    ) -> tuple[models.QuerySet, bool]:
        # Autocomplete and the list both pass a scoped queryset; scoping again costs
        # nothing and keeps a future caller that passes a raw one from leaking.
        return super().get_search_results(request, self.scope(request, queryset), search_term)

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
        if (
            "widget" not in kwargs
            and db_field.name in self.raw_id_fields
            and db_field.name not in self.get_autocomplete_fields(request)
        ):
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
