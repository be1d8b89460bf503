"""Monitoring reports in the admin: read-only records for Model admins."""

from django.contrib import admin

from monitoring.models import MonitoringReport, ReferenceDistribution
from web.admin_site import ReadOnlyForModelAdmins


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ("model_version", "period_start", "period_end", "channel", "status", "updated_at")
    list_filter = ("status", "channel")
    date_hierarchy = "period_end"


@admin.register(ReferenceDistribution)
class ReferenceDistributionAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ("model_version", "applicants", "source", "created_at")
