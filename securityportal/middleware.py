import functools
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control

NO_STORE = "no-store, private"


class NoStoreMiddleware:
    """Every page and API answer is personal or security-relevant: no cache (browser
    back button, shared proxy) may keep a copy. Static files never reach here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" in response:
            patch_cache_control(response, no_store=True, private=True)
        else:
            # Most answers set none: the header patch_cache_control would write,
            # without parsing and rebuilding it.
            response["Cache-Control"] = NO_STORE
        return response


# What a view sets (csp.decorators) to change or drop the policy of its own answer.
_PER_VIEW_POLICY = tuple(
    f"_csp_{part}{suffix}"
    for part in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


@functools.cache
def _settings_policies() -> tuple[tuple[str, str], ...] | None:
    """The headers of the policies in the settings, built once per process; None
    when a policy excludes URL prefixes (django-csp then decides per request)."""
    configs = [
        getattr(settings, name, None)
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    ]
    if any((config or {}).get("EXCLUDE_URL_PREFIXES") for config in configs):
        return None
    built = ((HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True)))
    return tuple((header, policy) for header, policy in built if policy)


@receiver(setting_changed)
def _forget_settings_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's, building the settings' policy once per process instead of twice
    per answer (the policy and its report-only twin). Every answer, JSON included,
    gets it (see DECISIONS.md). An answer whose view changed its policy, a request
    that used a nonce, a policy with excluded prefixes and DEBUG's error pages are
    left to django-csp, which builds those per request."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        policies = _settings_policies()
        if (
            policies is None
            or settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_VIEW_POLICY)
        ):
            return super().process_response(request, response)
        for header, policy in policies:
            if header not in response:
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written would be in
        # no policy, so asking for it raises instead of returning a useless value.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
