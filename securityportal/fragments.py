"""Fragments drawn once per key: a template whose output is a pure function of the
values it is given and of the language, rendered once per distinct set of them in each
process (docs/DECISIONS.md, "What a process may remember on the hot path")."""

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template
from django.utils.autoreload import file_changed
from django.utils.safestring import SafeString
from django.utils.translation import get_language

_DRAWERS: list[Any] = []


def drawn_once(template_name: str, *, kept: int) -> Callable[..., SafeString]:
    """A function that renders ``template_name`` with its keyword arguments as the
    context, remembering the last ``kept`` results. The arguments must be hashable
    and must be everything the template reads: no request, CSRF token, nonce or
    clock reaches a fragment drawn this way."""

    @lru_cache(maxsize=kept)
    def draw(language: str | None, context: tuple[tuple[str, Hashable], ...]) -> SafeString:
        # The language is in the key only: the active one is what the template renders in.
        return SafeString(get_template(template_name).render(dict(context)))

    _DRAWERS.append(draw)

    def drawn(**context: Hashable) -> SafeString:
        return draw(get_language(), tuple(sorted(context.items())))

    return drawn


@receiver(file_changed)
@receiver(setting_changed)
def _forget_drawn(**kwargs: Any) -> None:
    # A template edited under the development server (which reloads templates without
    # a restart), or the templates' settings changed by a test: draw afresh.
    for draw in _DRAWERS:
        draw.cache_clear()
