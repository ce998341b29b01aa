"""Django's ``clearsessions``, which calls this project's store: the same purge as
``purge_sessions`` (django.contrib.sessions, which ships the command, is not installed)."""

from django.contrib.sessions.management.commands.clearsessions import Command

__all__ = ["Command"]
