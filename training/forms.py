"""The retrain form of the model pages (Model admins only)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .pipeline import PROFILES


class RetrainForm(forms.Form):
    profile = forms.ChoiceField(
        label=_("Search profile"),
        choices=[(name, name) for name in PROFILES],
        initial="quick",
        help_text=_("quick: every algorithm and balancing, one setting each; full: a wider search, slower."),
    )
    as_of = forms.DateField(
        label=_("Label as of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to label applicants as of the latest date in the data."),
    )
    seed = forms.IntegerField(label=_("Random seed"), initial=7, min_value=0, max_value=2**31 - 1)
