"""Onboarding in the admin: Model admins create and deactivate users, give them a role, and issue or
revoke their API tokens.

- **Users**: a role (Analyst or Model admin, ``nplsite/roles.py``) instead of Django's raw groups and
  permissions; a Model admin is given staff access (the admin) with the role, and cannot see, edit or
  create superusers, so no one raises themselves above their role. Users are deactivated, never
  deleted (their predictions and runs keep naming them); deactivating revokes their tokens.
- **API tokens** (django-rest-knox, ``nplsite/tokens.py``; listed through the proxy
  ``nplsite.models.ApiToken``, so the admin names them "API tokens"): listed per user (on the user's page and in
  their own list), issued with "Add API token" — the key is shown once — and revoked by deleting them.
- **Groups** are the two roles, created by a migration: not edited here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from governance.models import AuditEntry
from governance.services import record
from nplsite.models import ApiToken
from nplsite.roles import ANALYST, AUDITOR, MODEL_ADMIN, ROLES, is_model_admin, main_role
from nplsite.tokens import issue_api_token, revoke_api_tokens

User = get_user_model()
Action, ObjectType = AuditEntry.Action, AuditEntry.ObjectType
ROLE_CHOICES = [
    ("", _("No role (cannot use the platform)")),
    (ANALYST, _("Analyst")),
    (MODEL_ADMIN, _("Model admin")),
    (AUDITOR, _("Auditor (reads the audit log, changes nothing)")),
]

for model in (User, Group, AuthToken):  # Django's and knox's own admins, replaced below (tokens as ApiToken)
    if admin.site.is_registered(model):
        admin.site.unregister(model)


def set_role(user, role: str) -> None:
    """Give ``user`` exactly ``role`` ("" for none); a Model admin also gets staff access to the admin."""
    if role and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; the roles are {', '.join(ROLES)}.")
    # get_or_create: the roles' groups come from a migration, but a role must never be lost silently.
    user.groups.set([Group.objects.get_or_create(name=role)[0]] if role else [])
    staff = role == MODEL_ADMIN or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def _user_state(user) -> dict:
    """What the audit log keeps of a user: name, role, active, staff."""
    return {"username": user.get_username(), "role": role_of(user), "active": user.is_active, "staff": user.is_staff}


def role_of(user) -> str:
    return main_role(set(user.groups.filter(name__in=ROLES).values_list("name", flat=True)))


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=ROLE_CHOICES, required=False, label=_("Role"), help_text=_("What this user may do."), **kwargs
        )


class AccountCreationForm(AdminUserCreationForm):
    role = RoleField()

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")


class AccountChangeForm(UserChangeForm):
    role = RoleField()

    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = role_of(self.instance)


class ModelAdminsOnly:
    """Open to Model admins (the groups carry no Django permissions)."""

    def has_module_permission(self, request):
        return is_model_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_add_permission(self, request):
        return is_model_admin(request.user)


class TokenColumns:
    """knox's fields under names an administrator reads, in their language."""

    @admin.display(description=_("key (first characters)"), ordering="token_key")
    def key_start(self, token):
        return token.token_key

    @admin.display(description=_("issued"), ordering="created")
    def issued(self, token):
        return token.created

    @admin.display(description=_("expires"), ordering="expiry")
    def expires(self, token):
        return token.expiry

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, token):
        return token.user


class ApiTokenInline(TokenColumns, admin.TabularInline):
    model = ApiToken
    fields = ("key_start", "issued", "expires")
    readonly_fields = fields
    extra = 0
    verbose_name = _("API token")
    verbose_name_plural = _("API tokens (tick Delete to revoke; issue new ones under API tokens)")

    def has_view_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return is_model_admin(request.user)  # the Delete boxes

    def has_delete_permission(self, request, obj=None):
        return is_model_admin(request.user)


@admin.register(User)
class AccountAdmin(ModelAdminsOnly, UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("is_active", "role")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("role",)}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    filter_horizontal = ()
    inlines = [ApiTokenInline]
    actions = ["deactivate", "revoke_tokens"]

    def has_change_permission(self, request, obj=None):
        return is_model_admin(request.user) and not (
            obj is not None and obj.is_superuser and not request.user.is_superuser
        )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: predictions and training runs keep naming their user

    def get_queryset(self, request):
        users = super().get_queryset(request).prefetch_related("groups")
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("role"))
    def role(self, obj):
        role = main_role({group.name for group in obj.groups.all()})
        return gettext(role) if role else "—"

    def save_model(self, request, obj, form, change):
        before = _user_state(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        set_role(obj, form.cleaned_data.get("role", ""))
        after = _user_state(obj)
        if before != after:
            record(
                request.user,
                Action.CHANGED if change else Action.CREATED,
                ObjectType.USER,
                obj,
                before=before,
                after=after,
            )

    def save_related(self, request, form, formsets, change):
        # The role is set in save_model; the user's groups are not a field of these forms.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Deactivate the selected users (revokes their API tokens)"))
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            user.is_active = False
            user.save(update_fields=["is_active"])  # the pre_save signal revokes the tokens
            record(
                request.user,
                Action.DEACTIVATED,
                ObjectType.USER,
                user,
                before={"active": True},
                after={"active": False},
            )
            count += 1
        self.message_user(request, ngettext("%d user deactivated.", "%d users deactivated.", count) % count)

    @admin.action(description=_("Revoke all API tokens of the selected users"))
    def revoke_tokens(self, request, queryset):
        count = 0
        for user in queryset:
            revoked = revoke_api_tokens(user)
            if revoked:
                record(request.user, Action.REVOKED, ObjectType.API_TOKEN, user, after={"tokens_revoked": revoked})
            count += revoked
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)


class ApiTokenCreationForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True, is_superuser=False).order_by("username")
        self.fields["user"].help_text = _(
            "The key is shown once, after saving; only its hash is kept. It expires after the configured lifetime."
        )


@admin.register(ApiToken)
class ApiTokenAdmin(TokenColumns, ModelAdminsOnly, admin.ModelAdmin):
    list_display = ("owner", "key_start", "issued", "expires")
    list_filter = ("user",)
    search_fields = ("user__username", "token_key")
    ordering = ("user__username", "-created")
    readonly_fields = ("owner", "key_start", "issued", "expires")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
            kwargs["fields"] = ["user"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_model_admin(request.user)  # deleting a token revokes it

    def save_model(self, request, obj, form, change):
        token, key = issue_api_token(obj.user)
        for name in ("digest", "token_key", "created", "expiry"):  # the admin logs the token it issued
            setattr(obj, name, getattr(token, name))
        record(
            request.user,
            Action.CREATED,
            ObjectType.API_TOKEN,
            object_id=token.token_key,
            label=obj.user.get_username(),
            after={"key_start": token.token_key, "expires": str(token.expiry)},
        )
        self.message_user(
            request,
            gettext("API token for %(user)s: %(key)s — copy it now, it is not shown again.")
            % {"user": obj.user.get_username(), "key": key},
            messages.WARNING,
        )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        record(
            request.user, Action.REVOKED, ObjectType.API_TOKEN, object_id=obj.token_key, label=obj.user.get_username()
        )

    def delete_queryset(self, request, queryset):
        revoked = [(token.token_key, token.user.get_username()) for token in queryset.select_related("user")]
        super().delete_queryset(request, queryset)
        for key, owner in revoked:
            record(request.user, Action.REVOKED, ObjectType.API_TOKEN, object_id=key, label=owner)

    def response_add(self, request, obj, post_url_continue=None):
        url = reverse("admin:nplsite_apitoken_changelist")
        return HttpResponseRedirect(f"{url}?user__id__exact={obj.user_id}")
