"""The one set of rules an applicant's attributes and an installment must satisfy.

Everything that accepts applicant data uses these rules: the loan-file reader (after parsing the
raw spellings), the model fields' validators and database constraints, the REST API's serializers
and the score form. They work on already-parsed Python values (ints, strings, dates), so they know
nothing about how a file spells an amount. What the attributes are (names, ranges, categories,
labels) is :mod:`applicants.attributes`.

Messages name the field by its human label ("Down payment", "Uang muka"), never by its key, and
write numbers the way the active language does (12,000,000 / 12.000.000). A value echoed back is
cut to :data:`ECHO_MAX_CHARS` characters.

Each ``validate_*`` function returns ``{field: [message, ...]}`` with one message per broken rule;
an empty dict means the values are valid.
"""

from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from applicants.attributes import (
    ATTRIBUTE_BY_NAME,
    ATTRIBUTE_FIELDS,
    CATEGORY_CHOICES,
    INSTALLMENT_FIELDS,
    MAX_INSTALLMENT_AMOUNT,
    Kind,
    label,
    unit,
)

# The allowed values of each category, as sets: a choices enum builds its ``values`` list anew on
# every access, which was most of the validation's time on large files.
CATEGORY_VALUE_SETS = {field: frozenset(choices.values) for field, choices in CATEGORY_CHOICES.items()}
EARLIEST_INSTALLMENT_DATE = date(1950, 1, 1)
LATEST_INSTALLMENT_DATE = date(2200, 12, 31)
ECHO_MAX_CHARS = 40  # a bad value is echoed in a message up to this many characters


def echo(value) -> str:
    """A value as a message quotes it: in quotes, cut to :data:`ECHO_MAX_CHARS` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > ECHO_MAX_CHARS:
        text = text[: ECHO_MAX_CHARS - 1] + "…"
    return f"“{text}”"


def amount(value: int) -> str:
    """A whole number with the active language's thousands separator."""
    return number_format(value, force_grouping=True)


def required_message(field: str) -> str:
    return gettext("%(label)s is required.") % {"label": label(field)}


def unknown_category_message(field: str, value) -> str:
    return gettext("%(label)s: unknown value %(value)s; allowed values: %(allowed)s") % {
        "label": label(field),
        "value": echo(value),
        "allowed": ", ".join(CATEGORY_CHOICES[field].values),
    }


def _whole_number_errors(field: str, value, minimum: int, maximum: int, kind: str, attribute=None) -> list[str]:
    """Errors of a whole number in [minimum, maximum]; ``attribute`` gives the unit the messages name
    (translated only when a message needs it: a valid value costs no translation lookup)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        message = gettext("%(label)s must be a whole number, got %(value)s")
        return [message % {"label": label(field), "value": echo(value)}]
    value = int(value)
    if minimum <= value <= maximum:
        return []
    values = {"label": label(field), "value": amount(value), "minimum": amount(minimum), "maximum": amount(maximum)}
    if value < 0 and minimum >= 0:
        return [gettext("%(label)s must not be negative, got %(value)s") % values]
    if value < minimum and kind == Kind.RUPIAH:
        return [gettext("%(label)s must be at least Rp %(minimum)s, got Rp %(value)s: no loan has that price") % values]
    if value < minimum:
        return [
            gettext("%(label)s must be at least %(minimum)s %(unit)s, got %(value)s")
            % {**values, "unit": unit(attribute) if attribute else ""}
        ]
    if kind == Kind.RUPIAH:
        return [
            gettext("%(label)s of Rp %(value)s is implausibly large (limit Rp %(maximum)s); check the units") % values
        ]
    return [
        gettext("%(label)s must be at most %(maximum)s %(unit)s, got %(value)s")
        % {**values, "unit": unit(attribute) if attribute else ""}
    ]


def attribute_field_errors(field: str, value) -> list[str]:
    """Errors of one applicant attribute on its own (every rule except the dp < otr cross-check)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return [required_message(field)]
    attribute = ATTRIBUTE_BY_NAME[field]
    if attribute.is_category:
        known = isinstance(value, str) and value in CATEGORY_VALUE_SETS[field]  # a list or dict is never hashed
        return [] if known else [unknown_category_message(field, value)]
    return _whole_number_errors(field, value, attribute.minimum, attribute.maximum, attribute.kind, attribute)


def dp_otr_errors(dp: int, otr: int) -> list[str]:
    """The cross-field rule: the down payment is less than the vehicle price (the rest is the loan)."""
    if int(dp) < int(otr):
        return []  # the usual case: no message is worded (the labels and amounts cost translation lookups)
    values = {"dp_label": label("dp"), "dp": amount(int(dp)), "otr_label": label("otr"), "otr": amount(int(otr))}
    if int(dp) == int(otr):
        return [
            gettext(
                "%(dp_label)s of Rp %(dp)s pays the whole %(otr_label)s of Rp %(otr)s: nothing is financed, so "
                "there is no loan to score"
            )
            % values
        ]
    if int(dp) > int(otr):
        return [gettext("%(dp_label)s of Rp %(dp)s is larger than %(otr_label)s of Rp %(otr)s") % values]
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
            return [required_message(field)] if field == "due_date" else []
        if not EARLIEST_INSTALLMENT_DATE <= value <= LATEST_INSTALLMENT_DATE:
            return [
                gettext("%(label)s %(value)s is outside the plausible range %(earliest)s to %(latest)s")
                % {
                    "label": label(field),
                    "value": value.isoformat(),
                    "earliest": date_format(EARLIEST_INSTALLMENT_DATE, "Y-m-d"),
                    "latest": date_format(LATEST_INSTALLMENT_DATE, "Y-m-d"),
                }
            ]
        return []
    if value is None:
        return [required_message(field)]
    return _whole_number_errors(field, value, 0, MAX_INSTALLMENT_AMOUNT, Kind.RUPIAH)


def validate_installment_values(values: dict) -> dict[str, list[str]]:
    """Errors of one installment's parsed values, ``{field: [message, ...]}``; ``{}`` when valid."""
    errors: dict[str, list[str]] = {}
    for field in INSTALLMENT_FIELDS:
        field_errors = installment_field_errors(field, values.get(field))
        if field_errors:
            errors[field] = field_errors
    return errors
