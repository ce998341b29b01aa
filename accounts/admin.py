"""Users and accounts in the Django admin. An owner manages the users of their own
account and its session policy; moving users between accounts, changing roles and
granting staff, superuser or permissions stay with the platform's superusers."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import models
from django.http import HttpRequest, HttpResponse

from accounts import roles
from accounts.admin_scope import AccountScopedAdmin, CheckedInputAdmin
from accounts.models import Account, User
from accounts.owners import access_of, record_access_change, update_session_policy
from accounts.policy import bounds
from accounts.signals import AccessChangeOrigin, PasswordChangeOrigin
from securityportal.client import client_ip

# Never shown to, nor taken from, an owner: with them an owner could move a user
# into another tenant, or make anyone staff or superuser (privilege escalation).
PLATFORM_FIELDS = ("account", "is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AccountScopedAdmin, DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    ordering = ("username",)

    owner_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "is_active")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    owner_add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    superuser_fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Account", {"fields": ("account", "role")}),
    )
    superuser_add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "account",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        users = super().get_queryset(request)
        if self.sees_every_account(request):
            return users
        # A superuser placed in an account is still not the owner's to manage: an
        # owner who could set their password could sign in as them.
        return users.filter(is_superuser=False)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> User | None:
        user = super().get_object(request, object_id, from_field)
        if user is not None and request.method == "POST":
            # Django's password page saves the user it fetched here through its own
            # form, with no hook in between: a password set there is recorded as this
            # request's, by whoever sent it, from where. No session is kept: every
            # session of that user ends, so whoever holds a stolen one is out.
            user.password_change_origin = PasswordChangeOrigin(
                session=None, ip=client_ip(request), actor=request.user
            )
        return user

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, unquote(id))
        if user is not None and user.pk == request.user.pk:
            # One's own password is changed where the current one is asked for
            # (AdminSite.password_change): Django's page here asks for none and can
            # switch password sign-in off, so a stolen cookie would take the account
            # (or lock its owner out), and it would end this session too.
            return self.admin_site.password_change(request)
        return super().user_change_password(request, id, form_url)

    def in_scope(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is not None and obj.is_superuser and not self.sees_every_account(request):
            return False
        return super().in_scope(request, obj)

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if self.sees_every_account(request):
            return (*self.list_display, "account", "is_staff", "is_superuser")
        return self.list_display

    def get_list_filter(self, request: HttpRequest) -> tuple[Any, ...]:
        if self.sees_every_account(request):
            return (
                *self.list_filter,
                ("account", admin.RelatedOnlyFieldListFilter),
                "is_staff",
                "is_superuser",
            )
        return self.list_filter

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> tuple:
        if self.sees_every_account(request):
            return self.superuser_fieldsets if obj else self.superuser_add_fieldsets
        return self.owner_fieldsets if obj else self.owner_add_fieldsets

    def get_exclude(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        if self.sees_every_account(request):
            return ()
        return PLATFORM_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        # Staff status follows the role (User.save); a checkbox for it would lie.
        fields = ("is_staff",)
        if self.sees_every_account(request):
            return fields
        # Owners are staff: an owner who could set a role could open the admin to
        # anyone in the account (privilege escalation). Shown, never taken.
        fields = (*fields, "role", "last_login", "date_joined")
        if obj is not None and obj.pk == request.user.pk:
            # Not by a slip of one's own: another owner can deactivate.
            fields = (*fields, "is_active")
        return fields

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not self.sees_every_account(request):
            # Whatever the request carried, a new user joins the owner's account as a
            # member, and an existing one stays in it.
            obj.account_id = request.user.account_id
            if not change:
                obj.role = User.Role.MEMBER
        before = None
        if change:
            before = access_of(obj)
            # The save ends the sessions of a user it deactivates or moves
            # (sessions.receivers): this says who did it, and from where.
            obj.access_change_origin = AccessChangeOrigin(
                actor=request.user, ip=client_ip(request)
            )
        super().save_model(request, obj, form, change)
        if before is not None:
            record_access_change(
                user=obj, before=before, actor=request.user, ip=client_ip(request)
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "groups" in form.fields:
            # The form has just set the groups as posted; the role decides the owners'.
            roles.sync_owner_group(form.instance)


class AccountForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = bounds()
        help_texts = {
            "session_idle_minutes": (
                f"Minutes a session may sit unused, {limits.idle_min} to {limits.idle_max}. "
                f"Empty: the system default ({limits.idle_default})."
            ),
            "session_absolute_minutes": (
                f"Minutes a session may live, {limits.absolute_min} to {limits.absolute_max}. "
                f"Empty: the system default ({limits.absolute_default})."
            ),
        }
        for name, text in help_texts.items():
            if name in self.fields:
                self.fields[name].help_text = f"{text} Applies from the next sign-in."


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin):
    account_path = "pk"
    form = AccountForm
    list_display = ("name", "session_idle_minutes", "session_absolute_minutes", "created_at")
    search_fields = ("name",)
    fields = ("name", "session_idle_minutes", "session_absolute_minutes", "created_at")
    ordering = ("name",)

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> tuple:
        if self.sees_every_account(request):
            return ("created_at",)
        return ("name", "created_at")

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        """A new account is saved as is; a change of policy goes through the same
        audited function as the owner page (the form has already applied
        ``Account.clean``, the page's rule)."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        if "name" in form.changed_data:
            obj.save(update_fields=["name"])
        update_session_policy(
            account=obj,
            idle_minutes=obj.session_idle_minutes,
            absolute_minutes=obj.session_absolute_minutes,
            actor=request.user,
            ip=client_ip(request),
        )


# Django's own Group admin (superusers only: owners have no permission on groups),
# with the same checks on its search box and row actions as every other admin.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(CheckedInputAdmin, DjangoGroupAdmin):
    pass
