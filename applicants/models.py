"""Loan applications and their installments, with the labels computed from the payment history.

Field validators and database constraints use the limits of :mod:`applicants.attributes`, the one
place that defines the attributes, and the rules of :mod:`applicants.validation`.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applicants.attributes import (
    ATTRIBUTE_FIELDS,
    MAX_DEPENDANTS,
    MAX_INSTALLMENT_AMOUNT,
    MAX_LAMA_BEKERJA,
    MAX_MONTHLY_INCOME,
    MAX_OTR,
    MAX_TENOR,
    MIN_DEPENDANTS,
    MIN_LAMA_BEKERJA,
    MIN_OTR,
    MIN_TENOR,
    HousingType,
    Pekerjaan,
    StatusPernikahan,
)
from applicants.validation import validate_applicant_attributes
from credit.labelling import KOLEKTIBILITAS_NAMES


class Kolektibilitas(models.IntegerChoices):
    LANCAR = 1, KOLEKTIBILITAS_NAMES[1]
    DALAM_PERHATIAN_KHUSUS = 2, KOLEKTIBILITAS_NAMES[2]
    KURANG_LANCAR = 3, KOLEKTIBILITAS_NAMES[3]
    DIRAGUKAN = 4, KOLEKTIBILITAS_NAMES[4]
    MACET = 5, KOLEKTIBILITAS_NAMES[5]


def _between(minimum: int, maximum: int) -> list:
    return [MinValueValidator(minimum), MaxValueValidator(maximum)]


class Applicant(models.Model):
    """One loan application: the applicant's nine attributes and, once labelled, its loan quality."""

    app_id = models.BigIntegerField(_("application id"), unique=True)
    monthly_income = models.BigIntegerField(_("monthly income (Rp)"), validators=_between(0, MAX_MONTHLY_INCOME))
    housing_type = models.CharField(_("housing type"), max_length=20, choices=HousingType.choices)
    num_of_dependent = models.SmallIntegerField(
        _("number of dependants"), validators=_between(MIN_DEPENDANTS, MAX_DEPENDANTS)
    )
    lama_bekerja = models.SmallIntegerField(
        _("years in current job"), validators=_between(MIN_LAMA_BEKERJA, MAX_LAMA_BEKERJA)
    )
    otr = models.BigIntegerField(_("vehicle on-the-road price (Rp)"), validators=_between(MIN_OTR, MAX_OTR))
    status_pernikahan = models.CharField(_("marital status"), max_length=20, choices=StatusPernikahan.choices)
    pekerjaan = models.CharField(_("occupation"), max_length=60, choices=Pekerjaan.choices)
    tenor = models.SmallIntegerField(_("tenor (months)"), validators=_between(MIN_TENOR, MAX_TENOR))
    dp = models.BigIntegerField(_("down payment (Rp)"), validators=_between(0, MAX_OTR))

    source = models.CharField(
        _("source"), max_length=255, blank=True, help_text=_("loan file name, or 'api' / 'web' for ad hoc applicants")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Labels from the payment history (applicants.labelling_service.label_applications); empty for an
    # applicant scored ad hoc, who has no history.
    max_dpd = models.IntegerField(_("max days past due"), null=True, blank=True)
    kolektibilitas = models.SmallIntegerField(
        _("kolektibilitas"), choices=Kolektibilitas.choices, null=True, blank=True
    )
    is_npl = models.BooleanField(_("NPL"), null=True, blank=True, help_text=_("kolektibilitas 3, 4 or 5"))
    labelled_as_of = models.DateField(_("labelled as of"), null=True, blank=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["app_id"]
        indexes = [
            models.Index(fields=["kolektibilitas"], name="applicant_kolektibilitas_idx"),
            models.Index(fields=["is_npl"], name="applicant_is_npl_idx"),
            models.Index(fields=["pekerjaan"], name="applicant_pekerjaan_idx"),
            models.Index(fields=["housing_type"], name="applicant_housing_type_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0) & Q(otr__gte=0) & Q(dp__gte=0), name="applicant_amounts_non_negative"
            ),
            models.CheckConstraint(condition=Q(dp__lte=F("otr")), name="applicant_dp_not_above_otr"),
            models.CheckConstraint(
                condition=Q(tenor__gte=MIN_TENOR, tenor__lte=MAX_TENOR), name="applicant_tenor_range"
            ),
            models.CheckConstraint(
                condition=Q(num_of_dependent__gte=MIN_DEPENDANTS, num_of_dependent__lte=MAX_DEPENDANTS),
                name="applicant_dependants_range",
            ),
            models.CheckConstraint(
                condition=Q(lama_bekerja__gte=MIN_LAMA_BEKERJA, lama_bekerja__lte=MAX_LAMA_BEKERJA),
                name="applicant_lama_bekerja_range",
            ),
            models.CheckConstraint(
                condition=Q(kolektibilitas__isnull=True) | Q(kolektibilitas__gte=1, kolektibilitas__lte=5),
                name="applicant_kolektibilitas_range",
            ),
        ]

    def __str__(self):
        return gettext("Application %(app_id)s") % {"app_id": self.app_id}

    def clean(self):
        super().clean()
        errors = validate_applicant_attributes({field: getattr(self, field) for field in ATTRIBUTE_FIELDS})
        if errors:
            raise ValidationError(errors)


class Installment(models.Model):
    """One installment of an application: when it was due, what is still owed, what was paid when."""

    applicant = models.ForeignKey(
        Applicant,
        on_delete=models.CASCADE,
        related_name="installments",
        verbose_name=_("applicant"),
        db_index=False,  # the (applicant, due_date) unique index below serves every lookup by applicant
    )
    due_date = models.DateField(_("due date"))
    paid_date = models.DateField(_("paid date"), null=True, blank=True)
    due_amount = models.BigIntegerField(_("amount still due (Rp)"), validators=_between(0, MAX_INSTALLMENT_AMOUNT))
    paid_amount = models.BigIntegerField(_("amount paid (Rp)"), validators=_between(0, MAX_INSTALLMENT_AMOUNT))

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        constraints = [
            # Also the index for "installments of an applicant in due-date order".
            models.UniqueConstraint(fields=["applicant", "due_date"], name="installment_unique_due_date"),
            models.CheckConstraint(
                condition=Q(due_amount__gte=0) & Q(paid_amount__gte=0), name="installment_amounts_non_negative"
            ),
        ]

    def __str__(self):
        return gettext("%(app_id)s: due %(date)s") % {"app_id": self.applicant_id, "date": self.due_date}
