from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # Never clashes with django.contrib.sessions (label "sessions"), which this
    # app replaces as the SESSION_ENGINE and which is not installed.
    label = "user_sessions"
    verbose_name = "Sessions"
    default_auto_field = "django.db.models.BigAutoField"
