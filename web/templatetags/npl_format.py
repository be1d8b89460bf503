"""Numbers as the current language writes them: rupiah, percentages, probabilities, counts.

``{% load npl_format %}`` then ``{{ amount|rupiah }}`` gives ``Rp 12.000.000`` in Indonesian and
``Rp 12,000,000`` in English (the thousands separator of the active locale). Dates need no filter of
ours: Django's ``|date`` follows the site's format modules (``nplsite/formats``): ``30 Jun 2024`` in
both languages, ``6 Des 2026 06.42`` / ``6 Dec 2026 06:42`` with ``"SHORT_DATETIME_FORMAT"``.
"""

from django import template
from django.utils.dateparse import parse_date
from django.utils.formats import date_format, number_format

from applicants.attributes import label
from nplsite.numbers import decimal_text
from scoring.reason_wording import prediction_rule_text
from scoring.reason_wording import worded_reasons as _worded_reasons

register = template.Library()

EMPTY = "—"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.filter
def rupiah(value):
    """An amount in whole rupiah with the locale's thousands separator: ``Rp 12,000,000``."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = round(float(value))
    except (TypeError, ValueError):
        return value
    sign = "−" if amount < 0 else ""
    return f"{sign}Rp {number_format(abs(amount), decimal_pos=0, force_grouping=True)}"


@register.filter
def grouped(value):
    """A whole number with the locale's thousands separator: ``12,345`` / ``12.345``."""
    if not _is_number(value):
        return EMPTY if value is None else value
    return number_format(round(value), decimal_pos=0, force_grouping=True)


@register.filter
def percent(value, decimals=1):
    """A ratio (0.123) as a percentage in the locale's notation: ``12.3 %`` / ``12,3 %``."""
    if not _is_number(value):
        return EMPTY
    return f"{decimal_text(value * 100, int(decimals), grouping=True)} %"


@register.filter
def decimal(value, decimals=3):
    """A metric such as 0.8123 with a fixed number of decimals, localised: ``0.812`` / ``0,812``."""
    if not _is_number(value):
        return EMPTY
    return decimal_text(value, int(decimals))


@register.filter
def get_item(mapping, key):
    """``{{ mapping|get_item:key }}``: a dict value by a key held in a variable."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.filter
def described_widget(bound_field):
    """A form field's widget with ``aria-describedby`` naming its help text and error message
    (ids ``<id>_helptext`` and ``<id>_error``, as ``includes/field.html`` renders them) and
    ``aria-invalid`` when it has errors."""
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_helptext")
    attrs = {}
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def attribute_label(name):
    """An attribute's (or loan-file column's) label in the reader's language: ``otr`` → ``Vehicle price (OTR)``."""
    return label(str(name))


@register.filter
def worded_reasons(prediction):
    """A prediction's reasons (stored as data) worded in the active language: ``label``,
    ``value_text``, ``typical_text``, ``text`` beside the data (:mod:`scoring.reason_wording`)."""
    if prediction is None:
        return []
    return _worded_reasons(prediction.reasons, prediction.input_attributes)


@register.filter
def month(value):
    """A month stored as ISO ``2023-06`` (or a date), written as the site writes dates: ``Jun 2023``
    (``Agu 2023`` in Indonesian; ``YEAR_MONTH_FORMAT`` of ``nplsite/formats``)."""
    if value is None or value == "":
        return EMPTY
    day = parse_date(f"{value}-01") if isinstance(value, str) else value
    if day is None:
        return str(value)
    return date_format(day, "YEAR_MONTH_FORMAT")


@register.filter
def knockout_rule(prediction):
    """The policy's knock-out rule that decided ``prediction``, in the active language (``""``: none)."""
    return prediction_rule_text(prediction) if prediction is not None else ""


@register.filter
def changed_fields(entry):
    """An audit entry's before/after as ``(field, before, after)`` rows, one per field either side names
    (a value missing on one side is ``None``), in the order the entry recorded them."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    if not isinstance(entry.before, (dict, type(None))) or not isinstance(entry.after, (dict, type(None))):
        return [("", entry.before, entry.after)]
    return [(field, before.get(field), after.get(field)) for field in dict.fromkeys([*before, *after])]
