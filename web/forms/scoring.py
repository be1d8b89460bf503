"""Forms of the scoring pages: one applicant's nine attributes, and a loan file to score in batch.

The fields are built from :mod:`applicants.attributes` (labels, categories) and the attribute rules
are not repeated here: after reading each input (a rupiah amount typed as ``12.000.000``,
``12,000,000``, ``Rp 12000000`` or ``12000000``), :meth:`ScoreForm.clean` applies
:func:`applicants.validation.validate_applicant_attributes` — the same rules, and so the same
messages, as the REST API and the loan-file reader. Every input longer than
:data:`applicants.parsing.MAX_TEXT_CHARS` is refused before it is read.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applicants.attributes import ATTRIBUTE_FIELDS, ATTRIBUTES, CATEGORY_CHOICES, Kind, lazy_label
from applicants.parsing import MAX_TEXT_CHARS, parse_rupiah, too_long_message
from applicants.validation import validate_applicant_attributes
from web.api.serializers import MAX_APP_ID

UPLOAD_EXTENSIONS = (".csv", ".txt")

_RUPIAH_PREFIX = re.compile(r"(?P<sign>[-−]?)\s*(?:rp\.?)?\s*(?P<sign_after>[-−]?)", re.IGNORECASE)
_PLAIN = re.compile(r"\d{1,15}")
_DOT_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_COMMA_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")
_SPACE_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+")
_HELP_TEXTS = {
    "monthly_income": _("Net income per month in rupiah, e.g. 12.000.000."),
    "otr": _("On-the-road price of the financed vehicle, in rupiah."),
    "dp": _("In rupiah; cannot be more than the vehicle price."),
}


def upload_max_bytes() -> int:
    return settings.BATCH_UPLOAD_MAX_BYTES


def parse_rupiah_input(text: str) -> int:
    """A rupiah amount as typed in a form: thousands separated by dots (Indonesian), commas
    (English), spaces or nothing, with an optional ``Rp`` and sign; otherwise any spelling of
    :func:`applicants.parsing.parse_rupiah` (e.g. ``9295094.0``). Raises ``ValueError``."""
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(too_long_message(len(text)))
    text = text.strip()
    match = _RUPIAH_PREFIX.match(text)
    body = text[match.end() :].strip()
    negative = bool(match["sign"] or match["sign_after"])
    if any(pattern.fullmatch(body) for pattern in (_PLAIN, _DOT_GROUPED, _COMMA_GROUPED, _SPACE_GROUPED)):
        value = int(re.sub(r"\D", "", body))
        return -value if negative else value
    return parse_rupiah(text.replace("−", "-"), allow_negative=True)


class CappedInputMixin:
    """Refuses an input longer than ``MAX_TEXT_CHARS`` before the field reads it."""

    def to_python(self, value):
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise forms.ValidationError(too_long_message(len(value)), code="max_length")
        return super().to_python(value)


class RupiahField(CappedInputMixin, forms.CharField):
    """A rupiah amount as an ``int``; the page's script shows thousands separators while typing."""

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(
            {"inputmode": "numeric", "autocomplete": "off", "data-rupiah": "", "spellcheck": "false", "maxlength": "40"}
        )
        return attrs

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_rupiah_input(text)
        except ValueError:
            raise forms.ValidationError(
                _("Enter an amount in rupiah, for example 12.000.000 or 12000000."), code="invalid"
            ) from None


class CappedIntegerField(CappedInputMixin, forms.IntegerField):
    pass


class CappedCharField(CappedInputMixin, forms.CharField):
    pass


def _attribute_field(attribute) -> forms.Field:
    """The form field of one attribute (optional at the form level: "required" is the shared rule's message)."""
    if attribute.kind == Kind.RUPIAH:
        return RupiahField(label=lazy_label(attribute.name), help_text=_HELP_TEXTS[attribute.name], required=False)
    if attribute.kind == Kind.COUNT:
        return CappedIntegerField(
            label=lazy_label(attribute.name), required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
        )
    choices = [("", _("Choose…")), *CATEGORY_CHOICES[attribute.name].choices]
    return CappedCharField(label=lazy_label(attribute.name), widget=forms.Select(choices=choices), required=False)


class ScoreForm(forms.Form):
    """The nine attributes of one applicant, and whether to save the applicant under an app_id."""

    save_applicant = forms.BooleanField(label=_("Save this applicant"), required=False)
    app_id = CappedIntegerField(
        label=_("Application id"),
        required=False,
        help_text=_("Needed to save the applicant; an existing id must have the same attributes."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every attribute is required, but by the shared validation rules (same message as the
        # API), not by Django's own check: the fields are optional at the form level.
        attribute_fields = {attribute.name: _attribute_field(attribute) for attribute in ATTRIBUTES}
        for field in attribute_fields.values():
            field.widget.attrs["required"] = True
            field.widget.attrs["aria-required"] = "true"
        self.fields = {**attribute_fields, **self.fields}

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in ATTRIBUTE_FIELDS}
        for name, value in values.items():
            if name in CATEGORY_CHOICES and value == "":
                values[name] = None
        for name, messages in validate_applicant_attributes(values).items():
            if name in self.errors:
                continue  # already unreadable (e.g. letters in an amount): one message is enough
            for message in messages:
                self.add_error(name, message)
        app_id = cleaned.get("app_id")
        if cleaned.get("save_applicant") and app_id is None and "app_id" not in self.errors:
            self.add_error("app_id", gettext("Enter an application id to save the applicant."))
        if app_id is not None and not 1 <= app_id <= MAX_APP_ID:
            self.add_error(
                "app_id", gettext("Application id must be between 1 and %(maximum)s.") % {"maximum": MAX_APP_ID}
            )
        return cleaned

    def attributes(self) -> dict:
        """The nine attributes, parsed (call after ``is_valid()``)."""
        return {name: self.cleaned_data[name] for name in ATTRIBUTE_FIELDS}

    def app_id_to_save(self) -> int | None:
        return self.cleaned_data["app_id"] if self.cleaned_data.get("save_applicant") else None


class BatchUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Loan file (CSV)"),
        help_text=_(
            "The loan-file format (one row per installment) or just app_id and the nine applicant columns, "
            "UTF-8, separated by commas or semicolons."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,text/csv"

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        name = (uploaded.name or "").lower()
        if not name.endswith(UPLOAD_EXTENSIONS):
            raise forms.ValidationError(
                gettext("Upload a CSV file (.csv or .txt); %(name)s is not one.") % {"name": uploaded.name}
            )
        limit = upload_max_bytes()
        if uploaded.size > limit:
            raise forms.ValidationError(
                gettext("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
                % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)}
            )
        if uploaded.size == 0:
            raise forms.ValidationError(gettext("The file is empty."))
        return uploaded
