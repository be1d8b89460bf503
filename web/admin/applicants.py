"""Django admin for applicants and installments (the admin site admits Model admins only).

Read-only: applicants and installments come from loan-file imports and labels from the labelling
service, so the admin is for looking things up. An applicant's installments show inline, capped at
``INLINE_INSTALLMENTS`` rows, with a link to the full list.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from applicants.models import Applicant, Installment
from web.admin_site import ReadOnlyForModelAdmins
from web.templatetags.npl_format import rupiah

INLINE_INSTALLMENTS = 120  # the longest tenor: every installment of a normal application fits


class InstallmentInline(ReadOnlyForModelAdmins, admin.TabularInline):
    model = Installment
    fields = ("due_date", "paid_date", "due_amount", "paid_amount")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("due_date",)
    verbose_name_plural = _("installments (the first 120 by due date)")

    def get_formset(self, request, obj=None, **kwargs):
        # Inline instances are created per request, so remembering the parent here is safe.
        self.parent_object = obj
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        parent = getattr(self, "parent_object", None)
        if parent is None:
            return queryset
        first_ids = list(
            Installment.objects.filter(applicant=parent)
            .order_by("due_date")
            .values_list("pk", flat=True)[:INLINE_INSTALLMENTS]
        )
        return queryset.filter(pk__in=first_ids)


@admin.register(Applicant)
class ApplicantAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    # What a lookup needs, amounts in rupiah: the list fits beside its filters at 1280 px.
    list_display = (
        "app_id",
        "pekerjaan",
        "housing_type",
        "monthly_income_rupiah",
        "otr_rupiah",
        "dp_rupiah",
        "tenor",
        "kolektibilitas",
        "is_npl",
        "max_dpd",
    )
    list_filter = ("kolektibilitas", "is_npl", "pekerjaan", "housing_type", "status_pernikahan")
    search_fields = ("=app_id",)
    search_help_text = _("Exact application id")
    readonly_fields = ("all_installments",)
    fieldsets = (
        (None, {"fields": ("app_id", "source")}),
        (
            _("Attributes"),
            {
                "fields": (
                    ("monthly_income", "otr", "dp", "tenor"),
                    ("housing_type", "status_pernikahan", "pekerjaan"),
                    ("num_of_dependent", "lama_bekerja"),
                )
            },
        ),
        (_("Labels"), {"fields": (("kolektibilitas", "is_npl", "max_dpd", "labelled_as_of"),)}),
        (_("Record"), {"fields": (("created_at", "updated_at"), "all_installments")}),
    )
    inlines = [InstallmentInline]
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    @admin.display(description=Applicant._meta.get_field("monthly_income").verbose_name, ordering="monthly_income")
    def monthly_income_rupiah(self, obj):
        return rupiah(obj.monthly_income)

    @admin.display(description=Applicant._meta.get_field("otr").verbose_name, ordering="otr")
    def otr_rupiah(self, obj):
        return rupiah(obj.otr)

    @admin.display(description=Applicant._meta.get_field("dp").verbose_name, ordering="dp")
    def dp_rupiah(self, obj):
        return rupiah(obj.dp)

    @admin.display(description=_("installments"))
    def all_installments(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:applicants_installment_changelist") + f"?applicant__app_id={obj.app_id}"
        return format_html('<a href="{}">{} {}</a>', url, obj.installments.count(), _("installments, all"))


class PaidFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "paid"

    def lookups(self, request, model_admin):
        return (("yes", _("paid")), ("no", _("not paid")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(paid_date__isnull=False)
        if self.value() == "no":
            return queryset.filter(paid_date__isnull=True)
        return queryset


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = ("applicant_app_id", "due_date", "paid_date", "due_amount", "paid_amount")
    list_filter = (PaidFilter,)
    list_select_related = ("applicant",)
    search_fields = ("=applicant__app_id",)
    search_help_text = _("Exact application id")
    raw_id_fields = ("applicant",)
    ordering = ("applicant_id", "due_date")  # the unique index's order
    list_per_page = 100
    show_full_result_count = False

    def lookup_allowed(self, lookup, value, request):
        # The "all installments" link on an applicant's page filters by its application id.
        return lookup == "applicant__app_id" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("application id"), ordering="applicant__app_id")
    def applicant_app_id(self, obj):
        return obj.applicant.app_id
