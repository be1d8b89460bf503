"""The nine applicant attributes, defined once: name, type, range, categories, human label.

Every part that handles applicant data reads this schema: the feature encoder, population
stability, the dataset generator, and through :mod:`applicants.attributes` (which derives the
database choices and translated labels from it) the validation rules, the loan-file reader, the
model fields, the REST API's serializers and the score form. A label is what a person reads
("Down payment", in Indonesian "Uang muka"); the name is the key a file, a JSON body or the
database uses (``dp``). Labels here are English, marked for translation; the apps show them in the
reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass


def _(text: str) -> str:
    """Marks ``text`` for translation (``makemessages`` collects it); the apps translate it when shown."""
    return text


class Kind:
    RUPIAH = "rupiah"  # a whole rupiah amount; files spell it Rp9295094.0, Rp 9.295.094, …
    COUNT = "count"  # a whole number of something (dependants, years, months)
    CATEGORY = "category"  # one of ``categories``


@dataclass(frozen=True)
class Category:
    member: str  # the constant's name in code, e.g. ``MILIK_SENDIRI``
    value: str  # as files, JSON and the database spell it
    label: str  # English, marked for translation


@dataclass(frozen=True)
class Attribute:
    name: str
    label: str  # English, marked for translation: what a person reads
    kind: str
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""  # English, marked for translation, shown after counts in messages ("years")
    categories: tuple[Category, ...] = ()
    example: int | str = ""  # a typical value (API examples, the template file)
    short: str = ""  # a shorter label where the unit is said beside it (reasons); the label when empty

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def is_category(self) -> bool:
        return self.kind == Kind.CATEGORY

    @property
    def values(self) -> list[str]:
        return [category.value for category in self.categories]


HOUSING_TYPES = (
    Category("MILIK_SENDIRI", "milik sendiri", _("milik sendiri (own home)")),
    Category("MILIK_ORANG_TUA", "milik orang tua", _("milik orang tua (parents' home)")),
    Category("MILIK_PASANGAN", "milik pasangan", _("milik pasangan (spouse's home)")),
    Category("KONTRAK", "kontrak", _("kontrak (rented house)")),
    Category("KOS", "kos", _("kos (rented room)")),
)
MARITAL_STATUSES = (
    Category("NIKAH", "Nikah", _("Nikah (married)")),
    Category("BELUM_NIKAH", "Belum Nikah", _("Belum Nikah (not married)")),
)
OCCUPATIONS = (
    Category("WIRASWASTA", "Wiraswasta", _("Wiraswasta (self-employed)")),
    Category("PROFESIONAL", "Profesional", _("Profesional (professional)")),
    Category("KARYAWAN_SWASTA", "Karyawan Swasta", _("Karyawan Swasta (private-sector employee)")),
    Category("PNS", "PNS", _("PNS (civil servant)")),
    Category("BURUH", "Buruh", _("Buruh (labourer)")),
    Category(
        "LAINNYA",
        "Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya",
        _("Ibu Rumah Tangga/Pensiunan/Mahasiswa/Lainnya (homemaker, retired, student, other)"),
    ),
)

# Hard limits, and "absurd magnitude" bounds that catch unit mistakes (cents, a typo'd zero).
MAX_MONTHLY_INCOME = 10_000_000_000  # 10 billion rupiah a month
MAX_OTR = 100_000_000_000  # 100 billion rupiah for one vehicle
MIN_OTR = 1  # a vehicle has a price: a zero price is no loan (and the amount financed is otr − dp > 0)
MAX_INSTALLMENT_AMOUNT = 100_000_000_000
MIN_TENOR, MAX_TENOR = 1, 120  # months
MIN_DEPENDANTS, MAX_DEPENDANTS = 0, 20
MIN_LAMA_BEKERJA, MAX_LAMA_BEKERJA = 0, 60  # years

# In the order of the loan file's columns.
ATTRIBUTES = (
    Attribute("monthly_income", _("Monthly income"), Kind.RUPIAH, 0, MAX_MONTHLY_INCOME, example=12_000_000),
    Attribute("housing_type", _("Housing"), Kind.CATEGORY, categories=HOUSING_TYPES, example="milik sendiri"),
    Attribute(
        "num_of_dependent",
        _("Number of dependants"),
        Kind.COUNT,
        MIN_DEPENDANTS,
        MAX_DEPENDANTS,
        _("dependants"),
        example=2,
    ),
    Attribute(
        "lama_bekerja", _("Years in current job"), Kind.COUNT, MIN_LAMA_BEKERJA, MAX_LAMA_BEKERJA, _("years"), example=5
    ),
    Attribute(
        "otr", _("Vehicle price (OTR)"), Kind.RUPIAH, MIN_OTR, MAX_OTR, example=150_000_000, short=_("Vehicle price")
    ),
    Attribute("status_pernikahan", _("Marital status"), Kind.CATEGORY, categories=MARITAL_STATUSES, example="Nikah"),
    Attribute("pekerjaan", _("Occupation"), Kind.CATEGORY, categories=OCCUPATIONS, example="Karyawan Swasta"),
    Attribute(
        "tenor", _("Tenor (months)"), Kind.COUNT, MIN_TENOR, MAX_TENOR, _("months"), example=36, short=_("Tenor")
    ),
    Attribute("dp", _("Down payment"), Kind.RUPIAH, 0, MAX_OTR, example=30_000_000),
)
ATTRIBUTE_BY_NAME = {attribute.name: attribute for attribute in ATTRIBUTES}
ATTRIBUTE_FIELDS = tuple(attribute.name for attribute in ATTRIBUTES)
CATEGORY_FIELDS = tuple(a.name for a in ATTRIBUTES if a.is_category)
NUMERIC_FIELDS = tuple(a.name for a in ATTRIBUTES if not a.is_category)
RUPIAH_ATTRIBUTE_FIELDS = tuple(a.name for a in ATTRIBUTES if a.kind == Kind.RUPIAH)
CATEGORY_VALUES = {a.name: tuple(a.values) for a in ATTRIBUTES if a.is_category}

# The other columns of a loan file, with their labels.
INSTALLMENT_FIELDS = ("due_date", "paid_date", "due_amount", "paid_amount")
INSTALLMENT_AMOUNT_FIELDS = ("due_amount", "paid_amount")
COLUMN_LABELS = {
    "app_id": _("Application id"),
    "due_date": _("Due date"),
    "paid_date": _("Payment date"),
    "due_amount": _("Amount due"),
    "paid_amount": _("Amount paid"),
    **{attribute.name: attribute.label for attribute in ATTRIBUTES},
}


def example_attributes() -> dict:
    """A typical applicant (the API's examples and the batch template file)."""
    return {attribute.name: attribute.example for attribute in ATTRIBUTES}
