"""Properties of the one policy rule (accounts.policy.validate_overrides), over any
overrides: it returns a policy within the system's bounds whose idle limit is no
longer than its absolute limit, or it refuses with a ValidationError that names
idle_minutes or absolute_minutes. It raises nothing else, whatever the bounds."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.policy import bounds, validate_overrides

PROPERTY = settings(max_examples=200, deadline=None)
FIELDS = {"idle_minutes", "absolute_minutes"}
CODES = {"out_of_bounds", "idle_exceeds_absolute"}

# None (the system default), values near the bounds, and any integer at all.
minutes = st.none() | st.integers(min_value=-5, max_value=130_000) | st.integers()


def check(idle: int | None, absolute: int | None) -> None:
    limits = bounds()
    try:
        policy = validate_overrides(idle_minutes=idle, absolute_minutes=absolute)
    except ValidationError as error:
        assert error.error_dict
        assert set(error.error_dict) <= FIELDS
        assert {part.code for parts in error.error_dict.values() for part in parts} <= CODES
        assert all(message for messages in error.message_dict.values() for message in messages)
        return
    assert limits.idle_min <= policy.idle_minutes <= limits.idle_max
    assert limits.absolute_min <= policy.absolute_minutes <= limits.absolute_max
    assert policy.idle_minutes <= policy.absolute_minutes
    # An override that is accepted is the limit in force; None is the default.
    assert policy.idle_minutes == (limits.idle_default if idle is None else idle)
    assert policy.absolute_minutes == (limits.absolute_default if absolute is None else absolute)


@PROPERTY
@given(idle=minutes, absolute=minutes)
def test_any_overrides_give_a_policy_within_bounds_or_a_field_error(idle, absolute):
    check(idle, absolute)


@PROPERTY
@given(idle=minutes, absolute=minutes)
def test_overrides_are_refused_exactly_when_a_bound_or_the_invariant_is_broken(idle, absolute):
    limits = bounds()
    effective_idle = limits.idle_default if idle is None else idle
    effective_absolute = limits.absolute_default if absolute is None else absolute
    allowed = (
        (idle is None or limits.idle_min <= idle <= limits.idle_max)
        and (absolute is None or limits.absolute_min <= absolute <= limits.absolute_max)
        and effective_idle <= effective_absolute
    )

    try:
        validate_overrides(idle_minutes=idle, absolute_minutes=absolute)
    except ValidationError:
        assert not allowed
    else:
        assert allowed


@st.composite
def system_bounds(draw: st.DrawFn) -> dict[str, int]:
    """Any bounds the environment could configure (securityportal.env.bounded_minutes
    keeps each default within its own minimum and maximum)."""
    values = {}
    for kind in ("IDLE", "ABSOLUTE"):
        low = draw(st.integers(min_value=1, max_value=200_000))
        high = draw(st.integers(min_value=low, max_value=200_000))
        values[f"SESSION_{kind}_MINUTES_MIN"] = low
        values[f"SESSION_{kind}_MINUTES_MAX"] = high
        values[f"SESSION_{kind}_MINUTES_DEFAULT"] = draw(st.integers(low, high))
    return values


@PROPERTY
@given(configured=system_bounds(), idle=minutes, absolute=minutes)
def test_the_rule_holds_under_any_configured_bounds(configured, idle, absolute):
    with override_settings(**configured):
        check(idle, absolute)


@pytest.mark.parametrize(
    ("idle", "absolute", "field", "code"),
    [
        (4, None, "idle_minutes", "out_of_bounds"),
        (None, 129_601, "absolute_minutes", "out_of_bounds"),
        (43_200, None, "idle_minutes", "idle_exceeds_absolute"),
        (None, 30, "absolute_minutes", "idle_exceeds_absolute"),
    ],
)
def test_the_examples_the_properties_cover(idle, absolute, field, code):
    # Shown once by hand, so a reader sees which inputs the properties above reach.
    with pytest.raises(ValidationError) as refused:
        validate_overrides(idle_minutes=idle, absolute_minutes=absolute)

    assert refused.value.error_dict[field][0].code == code
