from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form, taking a username or an e-mail address."""

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
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Django sizes the field for a username; e-mail addresses run longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = "254"
