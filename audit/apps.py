from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from audit import receivers

        user_logged_in.connect(receivers.record_sign_in, dispatch_uid="audit_sign_in")
        user_login_failed.connect(
            receivers.record_failed_sign_in, dispatch_uid="audit_failed_sign_in"
        )
