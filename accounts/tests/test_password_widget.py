"""The password inputs the security page draws itself write exactly what Django's
widget templates would, escaping included (a value or attribute is never markup)."""

import pytest
from django import forms

from accounts.forms import DirectPasswordInput

HOSTILE = '"><script>alert(1)</script>'


@pytest.mark.parametrize(
    ("name", "value", "attrs"),
    [
        ("new_password1", None, {"autocomplete": "new-password"}),
        ("old_password", "", {"autocomplete": "current-password", "autofocus": True}),
        ("x", None, {"required": True, "disabled": False, "aria-invalid": "true"}),
        (HOSTILE, HOSTILE, {"data-x": HOSTILE, "id": "id_" + HOSTILE}),
    ],
)
def test_a_password_input_is_written_as_djangos_templates_write_it(name, value, attrs):
    django_widget = forms.PasswordInput(attrs=attrs, render_value=True)
    direct_widget = DirectPasswordInput(attrs=attrs, render_value=True)

    written = direct_widget.render(name, value)

    assert written == django_widget.render(name, value)
    assert "<script>" not in written
