"""Sessions in the Django admin: read-only, with "Revoke selected sessions", which ends
them through ``Session.revoke`` like every other channel (one audit row each)."""

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from accounts.admin_scope import AccountScopedAdmin
from securityportal.client import client_ip
from sessions.models import RevokedReason, Session


class StatusFilter(admin.SimpleListFilter):
    """Live or ended: two fixed choices, where a filter by user would list every user
    with a session (a DISTINCT over the whole table on each page view)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("live", "Live"), ("ended", "Ended")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        now = timezone.now()
        if self.value() == "live":
            return queryset.live(now)
        if self.value() == "ended":
            return queryset.ended(now)
        return queryset


@admin.register(Session)
class SessionAdmin(AccountScopedAdmin):
    list_display = (
        "user",
        "kind",
        "device",
        "ip",
        "created_at",
        "last_seen_at",
        "revoked_at",
        "revoked_reason",
    )
    # Fixed choices only: none of these reads the table to offer its choices. A
    # user's sessions are one search away (username or e-mail).
    list_filter = (StatusFilter, "kind", "revoked_reason", "created_at")
    search_fields = ("user__username", "user__email", "device", "ip")
    list_select_related = ("user", "account")
    # With the tie-breaking id Django adds: the order of session_account_recent.
    ordering = ("-last_seen_at",)
    # Never key_hash (a hash of the cookie, still an offline-guessing target) nor
    # session_data (what the session stores).
    fields = (
        "user",
        "kind",
        "device",
        "user_agent",
        "ip",
        "created_at",
        "last_seen_at",
        "idle_timeout",
        "expire_date",
        "revoked_at",
        "revoked_reason",
    )
    readonly_fields = fields
    actions = ("revoke_selected",)

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if self.sees_every_account(request):
            return (*self.list_display, "account")
        return self.list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        # Ending a session is revoking it (audited); deleting the row would erase it.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    @admin.action(description="Revoke selected sessions", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        # ``queryset`` is the list's own, so another account's ids posted here
        # select nothing.
        ip = client_ip(request)
        # "Select all" takes the session in use along unseen: as on the security page
        # and in the API, that one ends by signing out, not from a list.
        current = request.session.current_row()
        listed = list(queryset.select_related("user"))
        selected = [session for session in listed if current is None or session.pk != current.pk]
        kept = len(selected) < len(listed)
        revoked = sum(
            session.revoke(reason=RevokedReason.ADMIN, actor=request.user, ip=ip)
            for session in selected
        )
        noun = "session" if revoked == 1 else "sessions"
        text = f"Revoked {revoked} {noun}."
        if len(selected) > revoked:
            ended = len(selected) - revoked
            text += f" {ended} of the selected had already ended."
        if kept:
            text += " Your own session stays signed in: sign out to end it."
        messages.success(request, text)
