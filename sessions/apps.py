from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # Never clashes with django.contrib.sessions (label "sessions"), which this
    # app replaces as the SESSION_ENGINE and which is not installed.
    label = "user_sessions"
    verbose_name = "Sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import password_changed
        from sessions import receivers

        # Connected before the audit app's receivers (INSTALLED_APPS order),
        # so they find the row already written.
        user_logged_in.connect(
            receivers.write_session_at_sign_in, dispatch_uid="write_session_at_sign_in"
        )
        password_changed.connect(
            receivers.end_sessions_on_password_change,
            dispatch_uid="end_sessions_on_password_change",
        )
