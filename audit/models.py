from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One security action: who did what to whom, when and from where.

    ``details`` holds facts about the action (reasons, counts, old and new values);
    never a password, session key or token."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who acted; empty when the system did (expiry, replay detection).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose security the event concerns.",
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="audit_user_time"),
            models.Index(fields=["account", "-created_at"], name="audit_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()
