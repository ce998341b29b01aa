"""Sign-in attempts and the audit trail in the Django admin: read-only, searchable,
by date. An owner sees their own account's events."""

from django.contrib import admin
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
    list_filter = (
        "success",
        "failure_reason",
        "channel",
        "new_device",
        ("user", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("username", "ip", "device", "user__email")
    date_hierarchy = "created_at"
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
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("action", "target", "ip", "actor__username", "user__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "user")
    ordering = ("-created_at", "-id")
    fields = ("created_at", "action", "actor", "user", "account", "target", "details", "ip")
    readonly_fields = fields
