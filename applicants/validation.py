"""The one set of rules an applicant's attributes and an installment must satisfy.

Everything that accepts applicant data uses these rules: the loan-file import (after parsing the
raw spellings), the model fields' validators and database constraints, the REST API and the score
form. They work on already-parsed Python values (ints, strings, dates), so they know nothing about
how a file spells an amount.

Each ``validate_*`` function returns ``{field: [message, ...]}`` with one message per broken rule;
an empty dict means the values are valid.
"""

from datetime import date

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class HousingType(models.TextChoices):
    MILIK_SENDIRI = "milik sendiri", _("milik sendiri (own home)")
    MILIK_ORANG_TUA = "milik orang tua", _("milik orang tua (parents' home)")
    MILIK_PASANGAN = "milik pasangan", _("milik pasangan (spouse's home)")
    KONTRAK = "kontrak", _("kontrak (rented house)")
    KOS = "kos", _("kos (rented room)")


class StatusPernikahan(models.TextChoices):
    NIKAH = "Nikah", _("Nikah (married)")
    BELUM_NIKAH = "Belum Nikah", _("Belum Nikah (not married)")


class Pekerjaan(models.TextChoices):
    WIRASWASTA = "Wiraswasta", _("Wiraswasta (self-employed)")
    PROFESIONAL = "Profesional", _("Profesional (professional)")
    KARYAWAN_SWASTA = "Karyawan Swasta", _("Karyawan Swasta (private-sector employee)")
    PNS = "PNS", _("PNS (civil servant)")
    BURUH = "Buruh", _("Buruh (labourer)")
    LAINNYA = (
        "Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya",
        _("Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya (homemaker, retired, student, other)"),
    )


# The nine attributes of an application, in the order of the loan file's columns.
ATTRIBUTE_FIELDS = (
    "monthly_income",
    "housing_type",
    "num_of_dependent",
    "lama_bekerja",
    "otr",
    "status_pernikahan",
    "pekerjaan",
    "tenor",
    "dp",
)
CATEGORY_CHOICES = {
    "housing_type": HousingType,
    "status_pernikahan": StatusPernikahan,
    "pekerjaan": Pekerjaan,
}
CATEGORY_FIELDS = tuple(CATEGORY_CHOICES)
# The allowed values of each category, as sets: a choices enum builds its ``values`` list anew on
# every access, which was most of the validation's time on large files.
_CATEGORY_VALUES = {field: frozenset(choices.values) for field, choices in CATEGORY_CHOICES.items()}
RUPIAH_ATTRIBUTE_FIELDS = ("monthly_income", "otr", "dp")
INTEGER_ATTRIBUTE_FIELDS = ("monthly_income", "num_of_dependent", "lama_bekerja", "otr", "tenor", "dp")

# Hard limits, and "absurd magnitude" bounds that catch unit mistakes (cents, a typo'd zero).
MAX_MONTHLY_INCOME = 10_000_000_000  # 10 billion rupiah a month
MAX_OTR = 100_000_000_000  # 100 billion rupiah for one vehicle
MAX_INSTALLMENT_AMOUNT = 100_000_000_000
MIN_TENOR, MAX_TENOR = 1, 120  # months
MIN_DEPENDANTS, MAX_DEPENDANTS = 0, 20
MIN_LAMA_BEKERJA, MAX_LAMA_BEKERJA = 0, 60  # years

# (minimum, maximum, unit shown in messages) per integer attribute.
INTEGER_LIMITS = {
    "monthly_income": (0, MAX_MONTHLY_INCOME, "rupiah"),
    "num_of_dependent": (MIN_DEPENDANTS, MAX_DEPENDANTS, "dependants"),
    "lama_bekerja": (MIN_LAMA_BEKERJA, MAX_LAMA_BEKERJA, "years"),
    "otr": (0, MAX_OTR, "rupiah"),
    "tenor": (MIN_TENOR, MAX_TENOR, "months"),
    "dp": (0, MAX_OTR, "rupiah"),
}

INSTALLMENT_AMOUNT_FIELDS = ("due_amount", "paid_amount")
INSTALLMENT_FIELDS = ("due_date", "paid_date", "due_amount", "paid_amount")
EARLIEST_INSTALLMENT_DATE = date(1950, 1, 1)
LATEST_INSTALLMENT_DATE = date(2200, 12, 31)


def required_message() -> str:
    return gettext("This field is required.")


def unknown_category_message(field: str, value) -> str:
    allowed = ", ".join(CATEGORY_CHOICES[field].values)
    return gettext("unknown %(field)s %(value)r; allowed values: %(allowed)s") % {
        "field": field,
        "value": value,
        "allowed": allowed,
    }


def _amount(value: int) -> str:
    return f"{value:,}"


def _integer_errors(field: str, value, minimum: int, maximum: int, unit: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [gettext("%(field)s must be a whole number, got %(value)r") % {"field": field, "value": value}]
    if isinstance(value, float) and not value.is_integer():
        return [gettext("%(field)s must be a whole number, got %(value)r") % {"field": field, "value": value}]
    value = int(value)
    if value < 0 and minimum >= 0:
        return [gettext("%(field)s must not be negative, got %(value)s") % {"field": field, "value": _amount(value)}]
    if value < minimum:
        return [
            gettext("%(field)s must be at least %(minimum)s %(unit)s, got %(value)s")
            % {"field": field, "minimum": _amount(minimum), "unit": unit, "value": _amount(value)}
        ]
    if value > maximum:
        if unit == "rupiah":
            return [
                gettext("%(field)s of %(value)s rupiah is implausibly large (limit %(maximum)s); check the units")
                % {"field": field, "value": _amount(value), "maximum": _amount(maximum)}
            ]
        return [
            gettext("%(field)s must be at most %(maximum)s %(unit)s, got %(value)s")
            % {"field": field, "maximum": _amount(maximum), "unit": unit, "value": _amount(value)}
        ]
    return []


def attribute_field_errors(field: str, value) -> list[str]:
    """Errors of one applicant attribute on its own (every rule except the dp ≤ otr cross-check)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return [required_message()]
    if field in CATEGORY_CHOICES:
        known = isinstance(value, str) and value in _CATEGORY_VALUES[field]  # a list or dict is never hashed
        return [] if known else [unknown_category_message(field, value)]
    minimum, maximum, unit = INTEGER_LIMITS[field]
    return _integer_errors(field, value, minimum, maximum, unit)


def dp_otr_errors(dp: int, otr: int) -> list[str]:
    """The cross-field rule: the down payment cannot exceed the vehicle price."""
    if int(dp) > int(otr):
        return [
            gettext("dp (down payment) of %(dp)s is larger than otr (vehicle price) of %(otr)s")
            % {"dp": _amount(int(dp)), "otr": _amount(int(otr))}
        ]
    return []


def validate_applicant_attributes(values: dict) -> dict[str, list[str]]:
    """Errors of the nine applicant attributes, ``{field: [message, ...]}``; ``{}`` when valid.

    ``values`` maps attribute names to parsed values: ints for amounts and counts (integral floats
    are accepted, as JSON clients send them), strings for the categories. A missing key or ``None``
    is "required". ``dp`` ≤ ``otr`` is checked when both are valid numbers.
    """
    errors: dict[str, list[str]] = {}
    for field in ATTRIBUTE_FIELDS:
        field_errors = attribute_field_errors(field, values.get(field))
        if field_errors:
            errors[field] = field_errors
    if "dp" not in errors and "otr" not in errors:
        cross_errors = dp_otr_errors(values["dp"], values["otr"])
        if cross_errors:
            errors["dp"] = cross_errors
    return errors


def installment_field_errors(field: str, value) -> list[str]:
    """Errors of one installment value: ``due_date`` (required), ``paid_date`` (``None`` = nothing
    paid), ``due_amount`` and ``paid_amount`` (required, non-negative, plausible)."""
    if field in ("due_date", "paid_date"):
        if value is None:
            return [required_message()] if field == "due_date" else []
        if not EARLIEST_INSTALLMENT_DATE <= value <= LATEST_INSTALLMENT_DATE:
            return [
                gettext("%(field)s %(value)s is outside the plausible range %(earliest)s to %(latest)s")
                % {
                    "field": field,
                    "value": value.isoformat(),
                    "earliest": EARLIEST_INSTALLMENT_DATE.isoformat(),
                    "latest": LATEST_INSTALLMENT_DATE.isoformat(),
                }
            ]
        return []
    if value is None:
        return [required_message()]
    return _integer_errors(field, value, 0, MAX_INSTALLMENT_AMOUNT, "rupiah")


def validate_installment_values(values: dict) -> dict[str, list[str]]:
    """Errors of one installment's parsed values, ``{field: [message, ...]}``; ``{}`` when valid."""
    errors: dict[str, list[str]] = {}
    for field in INSTALLMENT_FIELDS:
        field_errors = installment_field_errors(field, values.get(field))
        if field_errors:
            errors[field] = field_errors
    return errors
