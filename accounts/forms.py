from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.forms.renderers import BaseRenderer
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.lockout import SignInRefused, refusal_text
from accounts.models import Account
from accounts.passwords import UNCHANGED, is_unchanged
from accounts.policy import PRESETS, out_of_bounds, resolve, validate_overrides
from accounts.signin import BROWSER, PASSWORD_CHANGE, confirm_password, sign_in
from accounts.validators import PASSWORD_MAX


class SignInForm(AuthenticationForm):
    """Django's sign-in form, taking a username or an e-mail address, checked by
    ``accounts.signin.sign_in`` (lockout, rate limit, audit trail)."""

    # Django's default adds that fields "may be case-sensitive"; ours are not.
    # One message for every refusal, as the API gives (no user enumeration).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The username or password is incorrect.",
    }

    username = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    # Bounded so an enormous "password" cannot tie up a worker in the hasher.
    password = forms.CharField(
        label="Password",
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Django sizes the field for a username; e-mail addresses run longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = "254"
        self.retry_after: int | None = None

    def full_clean(self) -> None:
        super().full_clean()
        if self.errors:
            # After a refused sign-in the username is usually right and the browser
            # has emptied the password: the cursor waits where typing goes next.
            focus = "username" if "username" in self.errors else "password"
            for name, field in self.fields.items():
                field.widget.attrs["autofocus"] = name == focus

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = sign_in(
                self.request, identifier=username, password=password, channel=BROWSER
            )
        except SignInRefused as refused:
            raise self._refusal(refused) from None
        return self.cleaned_data

    def _refusal(self, refused: SignInRefused) -> ValidationError:
        self.retry_after = refused.retry_after
        if refused.retry_after is not None:
            return ValidationError(refusal_text(refused), code=refused.reason)
        return self.get_invalid_login_error()


class DirectPasswordInput(forms.PasswordInput):
    """Django's password input, written out here instead of through the form
    renderer's templates (input.html including attrs.html, two template renders per
    input, half the password card's time; the security page draws three on every
    view). The same markup as those templates, attribute for attribute, in order."""

    def render(
        self,
        name: str,
        value: object,
        attrs: dict[str, object] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        # Every piece through format_html, which escapes what it is given.
        html = format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
        if widget["value"] is not None:
            html += format_html(' value="{}"', widget["value"])
        for attr, attr_value in widget["attrs"].items():
            if attr_value is True:
                html += format_html(" {}", attr)
            elif attr_value is not False:
                html += format_html(' {}="{}"', attr, attr_value)
        return format_html("{}>", html)


class ChangePasswordForm(PasswordChangeForm):
    """Django's password change form (current password checked, the new one run
    through every validator in AUTH_PASSWORD_VALIDATORS) with our labels and bounds."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "Your current password is not correct.",
    }

    def __init__(
        self, *args: object, request: HttpRequest | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        labels = {
            "old_password": "Current password",
            "new_password1": "New password",
            "new_password2": "Confirm new password",
        }
        for name, label in labels.items():
            field = self.fields[name]
            field.label = label
            field.widget = DirectPasswordInput(attrs=field.widget.attrs)
            field.widget.is_required = field.required
            field.widget.attrs["maxlength"] = str(PASSWORD_MAX)
            field.validators.append(MaxLengthValidator(PASSWORD_MAX))
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        self.fields["new_password1"].widget.attrs["minlength"] = "12"
        self.fields["new_password1"].help_text = (
            "At least 12 characters; not a common or all-numeric password. "
            "A long passphrase is best."
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        # old_password is in cleaned_data only once proven (clean_old_password).
        current, new = cleaned.get("old_password"), cleaned.get("new_password1")
        if current is not None and new is not None and is_unchanged(current=current, new=new):
            self.add_error("new_password1", ValidationError(UNCHANGED, code="password_unchanged"))
        return cleaned

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        try:
            confirm_password(
                self.request, user=self.user, password=old_password, purpose=PASSWORD_CHANGE
            )
        except SignInRefused as refused:
            if refused.retry_after is not None:
                raise ValidationError(refusal_text(refused), code=refused.reason) from None
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from None
        return old_password


class SessionPolicyForm(forms.Form):
    """The owner page's Policy card: a preset, or custom limits; checked by
    ``accounts.policy.validate_overrides``, the rule the API and the admin share."""

    PRESET_CHOICES = [
        ("strict", "Strict"),
        ("standard", "Standard"),
        ("custom", "Custom"),
    ]

    preset = forms.ChoiceField(choices=PRESET_CHOICES, widget=forms.RadioSelect)
    idle_minutes = forms.IntegerField(
        label="Idle limit (minutes)",
        required=False,
        error_messages={"invalid": "Enter a whole number of minutes."},
    )
    absolute_minutes = forms.IntegerField(
        label="Absolute limit (minutes)",
        required=False,
        error_messages={"invalid": "Enter a whole number of minutes."},
    )
    apply_now = forms.BooleanField(label="Also apply to signed-in sessions now", required=False)
    # Set by the preview step: the owner has seen how many sessions these limits
    # end. ``previewed`` names the limits that were previewed: changed since, they
    # are previewed again rather than applied unseen.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    previewed = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args: Any, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    @classmethod
    def for_account(cls, account: Account) -> "SessionPolicyForm":
        idle, absolute = account.session_idle_minutes, account.session_absolute_minutes
        preset = next(
            (name for name, values in PRESETS.items() if values == (idle, absolute)), "custom"
        )
        effective = resolve(idle, absolute)
        return cls(
            initial={
                "preset": preset,
                "idle_minutes": effective.idle_minutes,
                "absolute_minutes": effective.absolute_minutes,
            }
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset is None:
            return cleaned
        if preset == "custom":
            idle, absolute = self._own_limits(
                cleaned.get("idle_minutes"), cleaned.get("absolute_minutes")
            )
        else:
            idle, absolute = PRESETS[preset]
            # Read only for Custom: without JavaScript a preset is posted with
            # whatever the custom inputs held, which must not refuse it.
            for name in ("idle_minutes", "absolute_minutes"):
                self.errors.pop(name, None)
        if self.has_error("idle_minutes") or self.has_error("absolute_minutes"):
            # Every field's error at once: a number beside a field that is not one
            # is still held to its bounds (the pair's rule needs both).
            for field, error in out_of_bounds(
                idle_minutes=idle, absolute_minutes=absolute
            ).items():
                self.add_error(field, error)
            return cleaned
        try:
            validate_overrides(idle_minutes=idle, absolute_minutes=absolute)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field, messages)
            return cleaned
        cleaned["overrides"] = (idle, absolute)
        return cleaned

    def _own_limits(self, idle: int | None, absolute: int | None) -> tuple[int | None, ...]:
        """A limit the account has no override of, left at the system default the form
        showed for it, stays no override: it keeps following the default, and saving
        the form as shown changes nothing."""
        if self.account is None:
            return idle, absolute
        default = resolve(None, None)
        if self.account.session_idle_minutes is None and idle == default.idle_minutes:
            idle = None
        if self.account.session_absolute_minutes is None and absolute == default.absolute_minutes:
            absolute = None
        return idle, absolute


class ReauthForm(forms.Form):
    reauth_password = forms.CharField(
        label="Your password",
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
