"""The colour tokens at the top of static/css/portal.css meet WCAG AA in the light
and the dark scheme: 4.5:1 for text on the backgrounds it is used on, 3:1 for the
focus ring, control borders and status markers (WCAG 1.4.3 and 1.4.11)."""

import re

import pytest

from conftest import PROJECT

CSS = (PROJECT / "static/css/portal.css").read_text()
TEXT_PAIRS = [
    ("text", "bg"),
    ("text", "surface"),
    ("text", "surface-sunken"),
    ("muted", "bg"),
    ("muted", "surface"),
    ("accent", "bg"),
    ("accent", "surface"),
    ("accent-hover", "surface"),
    ("accent", "surface-sunken"),
    ("accent-text", "accent"),
    ("accent-text", "accent-hover"),
    ("danger", "surface"),
    ("danger-text", "danger"),
    ("danger-text", "danger-hover"),
    ("text", "info-bg"),
    ("text", "success-bg"),
    ("text", "warning-bg"),
    ("text", "error-bg"),
]
NON_TEXT_PAIRS = [
    ("focus", "bg"),
    ("focus", "surface"),
    ("border-strong", "surface"),
    ("success", "surface"),
    ("danger", "surface"),
    ("warning", "surface"),
]


def tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", block))


def schemes() -> dict[str, dict[str, str]]:
    light = tokens(CSS[CSS.index(":root {") : CSS.index("}", CSS.index(":root {"))])
    dark_start = CSS.index("@media (prefers-color-scheme: dark)")
    dark = tokens(CSS[dark_start : CSS.index("}", dark_start)])
    return {"light": light, "dark": {**light, **dark}}


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("minimum", "pairs"), [(4.5, TEXT_PAIRS), (3.0, NON_TEXT_PAIRS)])
def test_every_colour_pair_meets_wcag_aa(scheme, minimum, pairs):
    colours = schemes()[scheme]

    ratios = {pair: contrast(colours[pair[0]], colours[pair[1]]) for pair in pairs}

    assert {pair: round(ratio, 2) for pair, ratio in ratios.items() if ratio < minimum} == {}
