"""The applicant attributes as the apps use them: the schema of :mod:`credit.attributes` with the
database choices and labels in the reader's language derived from it (nothing is defined twice).

``HousingType``, ``StatusPernikahan`` and ``Pekerjaan`` are Django ``TextChoices`` built from the
schema's categories; :func:`label` and :func:`unit` translate a column's label and unit.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, gettext_lazy

from credit.attributes import (  # noqa: F401 (the schema, re-exported for the apps)
    ATTRIBUTE_BY_NAME,
    ATTRIBUTE_FIELDS,
    ATTRIBUTES,
    CATEGORY_FIELDS,
    COLUMN_LABELS,
    HOUSING_TYPES,
    INSTALLMENT_AMOUNT_FIELDS,
    INSTALLMENT_FIELDS,
    MARITAL_STATUSES,
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
    NUMERIC_FIELDS,
    OCCUPATIONS,
    RUPIAH_ATTRIBUTE_FIELDS,
    Attribute,
    Kind,
    example_attributes,
)


def _choices(name: str, categories) -> type[models.TextChoices]:
    return models.TextChoices(name, [(c.member, (c.value, gettext_lazy(c.label))) for c in categories])


HousingType = _choices("HousingType", HOUSING_TYPES)
StatusPernikahan = _choices("StatusPernikahan", MARITAL_STATUSES)
Pekerjaan = _choices("Pekerjaan", OCCUPATIONS)
CATEGORY_CHOICES = {"housing_type": HousingType, "status_pernikahan": StatusPernikahan, "pekerjaan": Pekerjaan}


def label(name: str) -> str:
    """The human label of a column or attribute (translated into the active language); the name itself
    for anything unknown."""
    found = COLUMN_LABELS.get(name)
    return gettext(found) if found is not None else name


def lazy_label(name: str):
    """:func:`label`, translated when it is shown (form and serializer fields are built at import)."""
    return gettext_lazy(COLUMN_LABELS[name])


def unit(attribute: Attribute) -> str:
    """The unit shown after a count in messages ("years"), translated."""
    return gettext(attribute.unit) if attribute.unit else ""
