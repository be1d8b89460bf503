"""The filter, search and sort form of the applicant list (a GET form: filters live in the URL)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from applicants.attributes import HousingType, Pekerjaan
from credit.labelling import KOLEKTIBILITAS_NAMES
from web.page_selectors.applicants import DEFAULT_SORT, NOT_LABELLED, NOT_SCORED

SORT_CHOICES = [
    ("app_id", _("Application id, ascending")),
    ("-app_id", _("Application id, descending")),
    ("-max_dpd", _("Max days past due, highest first")),
    ("max_dpd", _("Max days past due, lowest first")),
    ("-monthly_income", _("Monthly income, highest first")),
    ("monthly_income", _("Monthly income, lowest first")),
    ("latest_score", _("Latest credit score, lowest first")),
    ("-latest_score", _("Latest credit score, highest first")),
]


class ApplicantFilterForm(forms.Form):
    app_id = forms.IntegerField(
        label=_("Application id"),
        required=False,
        min_value=1,
        widget=forms.TextInput(attrs={"type": "search", "inputmode": "numeric", "autocomplete": "off"}),
    )
    kolektibilitas = forms.ChoiceField(
        label=_("Kolektibilitas"),
        required=False,
        choices=[("", _("All")), *[(str(k), f"{k} – {name}") for k, name in KOLEKTIBILITAS_NAMES.items()]]
        + [(NOT_LABELLED, _("Not labelled"))],
    )
    npl = forms.ChoiceField(
        label=_("NPL"), required=False, choices=[("", _("All")), ("yes", _("NPL")), ("no", _("Not NPL"))]
    )
    grade = forms.ChoiceField(label=_("Latest grade"), required=False)
    pekerjaan = forms.ChoiceField(label=_("Occupation"), required=False, choices=[("", _("All")), *Pekerjaan.choices])
    housing_type = forms.ChoiceField(label=_("Housing"), required=False, choices=[("", _("All")), *HousingType.choices])
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES, initial=DEFAULT_SORT)

    def __init__(self, *args, grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [
            ("", _("All")),
            *[(grade, grade) for grade in grades],
            (NOT_SCORED, _("Never scored")),
        ]

    def filters(self) -> dict:
        """Keyword arguments for :func:`web.page_selectors.applicants.applicant_list` (call after is_valid)."""
        data = self.cleaned_data
        npl = {"yes": True, "no": False}.get(data.get("npl") or "")
        return {
            "app_id": data.get("app_id"),
            "kolektibilitas": data.get("kolektibilitas") or None,
            "is_npl": npl,
            "grade": data.get("grade") or None,
            "pekerjaan": data.get("pekerjaan") or None,
            "housing_type": data.get("housing_type") or None,
            "sort": data.get("sort") or DEFAULT_SORT,
        }
