"""Request bodies → the nine applicant attributes, or per-field errors a client can act on.

The attribute rules themselves (categories, ranges, dp ≤ otr, absurd magnitudes) are
:func:`applicants.validation.validate_applicant_attributes`; this module adds what belongs to a
request: the body must be a JSON object, fields other than the nine (and ``app_id`` where allowed)
are refused, and ``app_id`` must be a positive whole number.

Two modes:

- **strict** (``/api/v1/...``): numbers must be JSON numbers (an integral float such as
  ``9295094.0`` counts as a whole number; ``"9295094"`` or ``true`` does not); unknown fields are errors.
- **lenient** (the deprecated ``/predict/``, as the original service behaved): numeric strings such
  as ``"9295094"`` or ``"9295094.0"`` — and rupiah spellings such as ``"Rp9.295.094"`` for the
  amounts — are read as numbers, and fields other than the nine are ignored.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

from applicants.parsing import parse_rupiah
from applicants.validation import (
    ATTRIBUTE_FIELDS,
    CATEGORY_FIELDS,
    RUPIAH_ATTRIBUTE_FIELDS,
    validate_applicant_attributes,
)

APP_ID_FIELD = "app_id"
MAX_APP_ID = 2**63 - 1
_NUMERIC_TEXT = re.compile(r"^\s*[-+]?\d{1,20}(?:\.\d{1,6})?\s*$")


def object_error() -> str:
    return gettext("Expected a JSON object with the nine applicant attributes: %(fields)s.") % {
        "fields": ", ".join(ATTRIBUTE_FIELDS)
    }


def clean_applicant_input(
    item, *, allow_app_id: bool = True, require_app_id: bool = False, lenient: bool = False
) -> tuple[dict, int | None, dict[str, list[str]]]:
    """``(attributes, app_id, errors)`` of one request item.

    ``attributes`` holds the nine attributes with amounts and counts as ``int`` (empty when there
    are errors); ``app_id`` is ``None`` unless given; ``errors`` is ``{field: [message, ...]}``,
    with ``non_field_errors`` when the item is not an object.
    """
    if not isinstance(item, dict):
        return {}, None, {"non_field_errors": [object_error()]}
    errors: dict[str, list[str]] = {}
    accepted = set(ATTRIBUTE_FIELDS) | ({APP_ID_FIELD} if allow_app_id else set())
    if not lenient:
        for name in item:
            if name not in accepted:
                errors[str(name)] = [
                    gettext("Unknown field; the accepted fields are: %(fields)s.")
                    % {"fields": ", ".join(sorted(accepted, key=_field_order))}
                ]
    values = {field: item.get(field) for field in ATTRIBUTE_FIELDS}
    if lenient:
        values = {field: _lenient_number(field, value) for field, value in values.items()}
    errors.update(validate_applicant_attributes(values))

    app_id = None
    if allow_app_id and (item.get(APP_ID_FIELD) is not None or require_app_id):
        app_id, app_id_errors = _clean_app_id(item.get(APP_ID_FIELD))
        if app_id_errors:
            errors[APP_ID_FIELD] = app_id_errors
    if errors:
        return {}, None, errors
    attributes = {
        field: (str(values[field]) if field in CATEGORY_FIELDS else int(values[field])) for field in ATTRIBUTE_FIELDS
    }
    return attributes, app_id, {}


def _field_order(name: str) -> int:
    return -1 if name == APP_ID_FIELD else ATTRIBUTE_FIELDS.index(name)


def _clean_app_id(value) -> tuple[int | None, list[str]]:
    if value is None:
        return None, [gettext("This field is required.")]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        return None, [gettext("app_id must be a whole number, got %(value)r") % {"value": value}]
    if not 1 <= value <= MAX_APP_ID:
        return None, [
            gettext("app_id must be between 1 and %(maximum)s, got %(value)s") % {"maximum": MAX_APP_ID, "value": value}
        ]
    return int(value), []


def _lenient_number(field: str, value):
    """A numeric string as the number it spells (``/predict/`` only); anything else unchanged."""
    if field in CATEGORY_FIELDS or not isinstance(value, str):
        return value
    if _NUMERIC_TEXT.match(value):
        number = float(value)
        return int(number) if number.is_integer() else number
    if field in RUPIAH_ATTRIBUTE_FIELDS:
        try:
            return parse_rupiah(value)
        except ValueError:
            return value
    return value
