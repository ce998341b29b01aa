"""The peers: a minimal Django project, as `startproject` would make it, written by the
bench into a temporary folder. One settings module, configured by the environment:

- ``BENCH_SESSION_ENGINE``: ``db``, ``cached_db`` (with ``BENCH_REDIS_URL`` as the
  cache) or ``signed_cookies``, Django's own session engines;
- ``BENCH_DATABASE_NAME``: the PostgreSQL database.

Routes: ``/accounts/login/`` (Django's LoginView), ``/me/`` (a ``login_required`` JSON
view), ``/page/`` (a ``login_required`` template page), ``/ping/`` (no authentication:
the ceiling), ``/api/token/`` and ``/api/me/`` (djangorestframework-simplejwt's
``JWTAuthentication`` + ``IsAuthenticated``, a ModelSerializer of the user)."""

from pathlib import Path
from textwrap import dedent

SETTINGS = """
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "stockproject.urls"
WSGI_APPLICATION = "stockproject.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["BENCH_DATABASE_NAME"],
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        # As the portal's settings: one connection per worker, kept between requests,
        # checked with a round trip before a request first uses it.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends." + os.environ["BENCH_SESSION_ENGINE"]
if os.environ.get("BENCH_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["BENCH_REDIS_URL"],
        }
    }
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=int(os.environ["BENCH_TOKEN_SECONDS"])),
}
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

URLS = """
from django.contrib.auth import views as auth_views
from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView

from stockproject import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("me/", views.me),
    path("page/", views.page),
    path("ping/", views.ping),
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/me/", views.JwtMe.as_view()),
]
"""

VIEWS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


@login_required
def me(request):
    user = request.user
    return JsonResponse({"id": user.pk, "username": user.username, "email": user.email})


@login_required
def page(request):
    return render(request, "page.html")


def ping(request):
    return JsonResponse({"ok": True})


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name"]


class JwtMe(APIView):
    def get(self, request):
        return Response(MeSerializer(request.user).data)
"""

WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockproject.settings")
application = get_wsgi_application()
"""

MANAGE = """
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

LOGIN_TEMPLATE = """
<!doctype html>
<title>Sign in</title>
<form method="post">{% csrf_token %}{{ form }}<button>Sign in</button></form>
"""

PAGE_TEMPLATE = """
<!doctype html>
<title>Bench</title>
<h1>Hello {{ user.username }}</h1>
"""

FILES = {
    "manage.py": MANAGE,
    "stockproject/__init__.py": "",
    "stockproject/settings.py": SETTINGS,
    "stockproject/urls.py": URLS,
    "stockproject/views.py": VIEWS,
    "stockproject/wsgi.py": WSGI,
    "templates/registration/login.html": LOGIN_TEMPLATE,
    "templates/page.html": PAGE_TEMPLATE,
}


def write_stock_project(folder: Path) -> Path:
    """Write the project into ``folder``; the folder to run it from."""
    for relative, text in FILES.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())
    return folder
