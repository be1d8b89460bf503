"""The prediction audit trail (read-only) and the decision policies in the Django admin, for Model admins."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.services import Kind
from nplsite.numbers import decimal_text
from nplsite.roles import is_model_admin
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import POLICY_FIELDS
from web.admin.governance import propose_from_admin
from web.admin_site import ReadOnlyForModelAdmins


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


@admin.register(DecisionPolicy)
class DecisionPolicyAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    """Model admins see every policy and activate one; "Add" leads to the policy page (the form in
    percentages and one field per grade band, with the strategy preview); a stored policy is never
    changed or deleted (predictions point at it)."""

    list_display = ["id", "is_active", "grade_bands", "approve_min_score", "decline_min_pd", "created_by", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["created_by"]
    actions = ["activate_policy"]
    readonly_fields = ["is_active", "created_by", "created_at", "activated_by", "activated_at"]

    def get_fields(self, request, obj=None):
        return [*POLICY_FIELDS, "reason", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [*POLICY_FIELDS, "reason", *self.readonly_fields]

    def has_add_permission(self, request):
        return is_model_admin(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        """A policy is proposed on its own page, where its strategy curves are shown before it is saved."""
        return HttpResponseRedirect(reverse("policies:new"))

    @admin.action(
        description=_("Propose activating this policy (a second model admin approves it)"), permissions=["model_admin"]
    )
    def activate_policy(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one policy to activate."), messages.ERROR)
            return None
        propose_from_admin(self, request, Kind.ACTIVATE_POLICY, queryset.get().pk)
        return None
