"""Sign-in attempts and the audit trail in the Django admin: read-only, searchable,
by date. An owner sees their own account's events."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.http import HttpRequest

from accounts.admin_scope import AccountScopedAdmin
from audit.models import AuditEvent, LoginEvent


class ReadOnlyAdmin(AccountScopedAdmin):
    """The record of what happened: nobody adds, edits or deletes it here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ActionFilter(admin.SimpleListFilter):
    """The kind of action, from a fixed list: a filter on the column itself would read
    every distinct action of the table (a scan of all of it) on each page view."""

    title = "action"
    parameter_name = "action"
    # The part of each action before its dot.
    FAMILIES = (
        ("account", "Account policy and bulk sign-out"),
        ("login", "Sign-ins"),
        ("password", "Passwords"),
        ("refresh_token", "Refresh tokens"),
        ("session", "Sessions"),
        ("user", "People: access and roles"),
    )

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> tuple:
        return self.FAMILIES

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value not in dict(self.FAMILIES):
            raise IncorrectLookupParameters(f"{value!r} is not a kind of action.")
        return queryset.filter(action__startswith=f"{value}.")


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "username",
        "user",
        "success",
        "failure_reason",
        "channel",
        "ip",
        "device",
        "new_device",
    )
    # Fixed choices only, and date ranges instead of a date drill-down, whose year
    # links read every row's date (a DISTINCT over the table) on each page view.
    list_filter = ("success", "failure_reason", "channel", "new_device", "created_at")
    search_fields = ("username", "ip", "device", "user__email")
    list_select_related = ("user",)
    ordering = ("-created_at", "-id")
    # Never device_key: it recognises a device, so it must stay out of every page.
    fields = (
        "created_at",
        "username",
        "user",
        "account",
        "channel",
        "success",
        "failure_reason",
        "new_device",
        "ip",
        "user_agent",
        "device",
        "session",
    )
    readonly_fields = fields


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "user", "target", "ip")
    list_filter = (ActionFilter, "created_at")
    search_fields = ("action", "target", "ip", "actor__username", "user__username")
    list_select_related = ("actor", "user")
    ordering = ("-created_at", "-id")
    fields = ("created_at", "action", "actor", "user", "account", "target", "details", "ip")
    readonly_fields = fields
