"""Pages composed of several apps' cards."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.forms import ChangePasswordForm
from audit.chart import daily_sign_ins
from audit.views import activity_context
from sessions.views import sessions_card_context


@require_GET
def security_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's security page: password, active sessions, recent activity."""
    context = {
        "password_form": ChangePasswordForm(request.user),
        **sessions_card_context(request),
        "sign_in_chart": daily_sign_ins(user=request.user, now=timezone.now()),
        **activity_context(request),
    }
    return render(request, "security.html", context)


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links, signed in or not: send
    them to the SVG icon (its hashed name in production, hence not a fixed URL)."""
    return redirect(static("favicon.svg"))
