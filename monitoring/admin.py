"""Monitoring reports in the admin: read-only records for Model admins."""

from django.contrib import admin

from training.admin import ModelAdminRoleMixin

from .models import MonitoringReport, ReferenceDistribution


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ModelAdminRoleMixin, admin.ModelAdmin):
    list_display = ("model_version", "period_start", "period_end", "channel", "status", "updated_at")
    list_filter = ("status", "channel")
    date_hierarchy = "period_end"


@admin.register(ReferenceDistribution)
class ReferenceDistributionAdmin(ModelAdminRoleMixin, admin.ModelAdmin):
    list_display = ("model_version", "applicants", "source", "created_at")
