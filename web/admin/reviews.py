"""The review desk in the Django admin, for Model admins: the reason codes and approval limits they
maintain (each change through its one service function in ``reviews/services.py``), and the cases and
decisions, read-only (the audit trail of who decided what)."""

from django import forms
from django.contrib import admin

from nplsite.roles import is_model_admin
from reviews.models import ApprovalLimit, ReasonCode, ReviewCase, ReviewDecision
from reviews.services import REASON_CODE_FIELDS, reason_code_problems, save_reason_code, set_approval_limit
from web.admin_site import ReadOnlyForModelAdmins
from web.page_selectors.reviews import assignable_users


class ReasonCodeForm(forms.ModelForm):
    class Meta:
        model = ReasonCode
        fields = list(REASON_CODE_FIELDS)

    def clean(self):
        data = super().clean()
        reason = self.instance if self.instance.pk else None
        values = {field: data[field] for field in REASON_CODE_FIELDS if field in data}
        for field, message in reason_code_problems(reason, values).items():
            if field not in self.errors:
                self.add_error(field, message)
        return data


@admin.register(ReasonCode)
class ReasonCodeAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    """Model admins add and change codes; none is deleted (decisions point at them): untick "offered"."""

    form = ReasonCodeForm
    list_display = ["code", "label_en", "label_id", "applies_to", "is_active", "sort_order"]
    list_filter = ["applies_to", "is_active"]
    search_fields = ["code", "label_en", "label_id"]

    def has_add_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def save_model(self, request, obj, form, change):
        original = ReasonCode.objects.get(pk=obj.pk) if change else None
        values = {field: form.cleaned_data[field] for field in REASON_CODE_FIELDS if field in form.cleaned_data}
        saved = save_reason_code(original, values=values, user=request.user)
        obj.pk = saved.pk


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    """A user's own approval limit, replacing their role's; deleting it returns them to the role's."""

    list_display = ["user", "amount", "updated_at"]
    search_fields = ["user__username"]
    fields = ["user", "amount"]

    def has_add_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = assignable_users().filter(is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = set_approval_limit(obj.user, obj.amount, by=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        set_approval_limit(obj.user, None, by=request.user)

    def delete_queryset(self, request, queryset):
        for limit in queryset.select_related("user"):
            set_approval_limit(limit.user, None, by=request.user)


class ReviewDecisionInline(ReadOnlyForModelAdmins, admin.TabularInline):
    model = ReviewDecision
    extra = 0
    fields = ["decided_at", "outcome", "recommendation", "override", "reason_code", "note", "decided_by", "is_final"]
    readonly_fields = fields


@admin.register(ReviewCase)
class ReviewCaseAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ["prediction", "status", "assignee", "sent_at", "final_outcome", "decided_at"]
    list_filter = ["status", "final_outcome"]
    list_select_related = ["prediction", "assignee"]
    search_fields = ["prediction__applicant__app_id"]
    raw_id_fields = ["prediction"]
    inlines = [ReviewDecisionInline]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = [
        "decided_at",
        "prediction",
        "outcome",
        "recommendation",
        "override",
        "reason_code",
        "decided_by",
        "is_final",
    ]
    list_display_links = ["decided_at"]
    list_filter = ["outcome", "override", "recommendation", "is_final", "reason_code"]
    list_select_related = ["prediction", "reason_code", "decided_by"]
    search_fields = ["prediction__applicant__app_id", "decided_by__username"]
    date_hierarchy = "decided_at"
    raw_id_fields = ["prediction", "case"]
