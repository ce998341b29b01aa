import math

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.lockout import SignInRefused
from accounts.signin import BROWSER, confirm_password, sign_in

PASSWORD_MAX = 1024


def wait_text(seconds: int) -> str:
    """ "1 minute", "15 minutes": how long a refused client should wait, rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


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
        if refused.reason == SignInRefused.LOCKED_OUT:
            return ValidationError(
                f"Too many failed attempts. Try again in {wait_text(refused.retry_after)}.",
                code="locked_out",
            )
        if refused.reason == SignInRefused.RATE_LIMITED:
            return ValidationError(
                "Too many sign-in attempts from your network. "
                f"Try again in {wait_text(refused.retry_after)}.",
                code="rate_limited",
            )
        return self.get_invalid_login_error()


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
            field.max_length = PASSWORD_MAX
            field.widget.attrs["maxlength"] = str(PASSWORD_MAX)
            field.validators.append(_max_length_validator)
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        self.fields["new_password1"].widget.attrs["minlength"] = "12"
        self.fields["new_password1"].help_text = (
            "At least 12 characters; not a common or all-numeric password. "
            "A long passphrase is best."
        )

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        try:
            confirm_password(self.request, user=self.user, password=old_password)
        except SignInRefused as refused:
            if refused.retry_after is not None:
                raise ValidationError(
                    f"Too many failed attempts. Try again in {wait_text(refused.retry_after)}.",
                    code="locked_out",
                ) from None
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from None
        return old_password


def _max_length_validator(value: str) -> None:
    if len(value) > PASSWORD_MAX:
        raise ValidationError(f"Use at most {PASSWORD_MAX} characters.", code="password_too_long")
