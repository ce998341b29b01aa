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
        from django.db.models.signals import post_save, pre_delete, pre_save

        from accounts.models import Account, User
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
        pre_save.connect(
            receivers.end_sessions_when_access_ends,
            sender=User,
            dispatch_uid="end_sessions_when_access_ends",
        )
        post_save.connect(
            receivers.forget_cached_sessions_of_user,
            sender=User,
            dispatch_uid="forget_cached_sessions_of_user",
        )
        pre_delete.connect(
            receivers.forget_cached_sessions_of_deleted_user,
            sender=User,
            dispatch_uid="forget_cached_sessions_of_deleted_user",
        )
        post_save.connect(
            receivers.forget_cached_sessions_of_account,
            sender=Account,
            dispatch_uid="forget_cached_sessions_of_account",
        )
