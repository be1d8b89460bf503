"""The prediction audit trail in the Django admin: read-only, for Model admins."""

from django.contrib import admin

from nplsite.roles import is_model_admin

from .models import Prediction


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "applicant",
        "npl_probability",
        "is_npl",
        "credit_score",
        "risk_grade",
        "recommendation",
        "model_version",
        "channel",
        "user",
    ]
    list_filter = ["channel", "is_npl", "risk_grade", "recommendation", "model_version"]
    search_fields = ["applicant__app_id"]
    date_hierarchy = "created_at"
    list_select_related = ["applicant", "model_version", "user"]
    raw_id_fields = ["applicant", "user"]

    def has_module_permission(self, request):
        return is_model_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
