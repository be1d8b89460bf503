"""The prediction audit trail (read-only) and the decision policies in the Django admin, for Model admins."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from nplsite.numbers import decimal_text
from nplsite.roles import is_model_admin
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import POLICY_FIELDS
from scoring.policy_services import activate_policy, create_policy
from web.admin_site import ReadOnlyForModelAdmins
from web.forms.policies import PolicyForm


def _percent(value) -> str:
    return "—" if value is None else f"{decimal_text(value * 100, 2)} %"


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = [
        "created_at",
        "applicant",
        "npl_probability_display",
        "is_npl",
        "credit_score",
        "risk_grade",
        "recommendation",
        "model_version",
        "policy",
        "channel",
        "user",
    ]
    list_display_links = ["created_at"]  # no id column: the list fits beside its filters at 1280 px
    list_filter = ["channel", "is_npl", "risk_grade", "recommendation", "model_version"]
    search_fields = ["applicant__app_id"]
    date_hierarchy = "created_at"
    list_select_related = ["applicant", "model_version", "policy", "user"]
    raw_id_fields = ["applicant", "user"]

    # The view page shows the probabilities rounded (raw floats read like 0.10222943533696).
    exclude = ["npl_probability", "threshold"]
    readonly_fields = ["npl_probability_display", "threshold_display"]

    @admin.display(description=_("NPL probability"), ordering="npl_probability")
    def npl_probability_display(self, obj):
        return _percent(obj.npl_probability)

    @admin.display(description=_("decision threshold used"))
    def threshold_display(self, obj):
        return _percent(obj.threshold)


class PolicyAdminForm(PolicyForm):
    """The policy form with the reason required (the admin has no preview)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reason" in self.fields:  # a stored policy is shown read-only, without fields
            self.fields["reason"].required = True


@admin.register(DecisionPolicy)
class DecisionPolicyAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    """Model admins add policies (through ``create_policy``) and activate one; a stored policy is never
    changed or deleted (predictions point at it)."""

    form = PolicyAdminForm
    list_display = ["id", "is_active", "grade_bands", "approve_min_score", "decline_min_pd", "created_by", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["created_by"]
    actions = ["activate_policy"]
    readonly_fields = ["is_active", "created_by", "created_at", "activated_by", "activated_at"]

    def get_fields(self, request, obj=None):
        return [*POLICY_FIELDS, "reason"] if obj is None else [*POLICY_FIELDS, "reason", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else [*POLICY_FIELDS, "reason", *self.readonly_fields]

    def has_add_permission(self, request):
        return is_model_admin(request.user)

    def save_model(self, request, obj, form, change):
        created = create_policy(request.user, reason=form.cleaned_data["reason"], **form.figures())
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at

    @admin.action(description=_("Activate this policy"), permissions=["model_admin"])
    def activate_policy(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one policy to activate."), messages.ERROR)
            return None
        policy = activate_policy(queryset.get(), request.user)
        self.message_user(request, gettext("Policy #%(id)s is now in force.") % {"id": policy.pk}, messages.SUCCESS)
        return None
