"""The retrain form, used by the model pages and the Django admin (Model admins only)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from credit.model_search import SCORECARD

# The profiles a person may choose. ``smoke`` (two algorithms × two balancings, seconds on tiny data)
# exists for the test suite and stays available to ``manage.py train --profile smoke``; it is not
# offered here, as a model trained with it is not one to score applicants with.
RETRAIN_PROFILE_CHOICES = [("quick", _("quick")), ("full", _("full"))]


class RetrainForm(forms.Form):
    profile = forms.ChoiceField(
        label=_("Search profile"),
        choices=RETRAIN_PROFILE_CHOICES,
        initial="quick",
        help_text=_(
            "quick: every algorithm × balancing with one sampled setting each, 3-fold cross-validation (about a "
            "minute on the demo book). full: each tuned by RandomizedSearchCV over 8 settings, 4-fold; several "
            "times slower."
        ),
    )
    as_of = forms.DateField(
        label=_("Label as of"),
        required=False,
        # A text input, day first: a browser's date picker follows the browser's locale (mm/dd/yyyy in
        # an American English one) whatever the page's language.
        widget=forms.DateInput(attrs={"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric", "autocomplete": "off"}),
        help_text=_(
            "Day/month/year, e.g. 30/06/2026. Leave empty to label applicants as of the latest date in the data."
        ),
    )
    seed = forms.IntegerField(label=_("Random seed"), initial=7, min_value=0, max_value=2**31 - 1)


# What a model admin may ask the search to register: the rule's choice, or the scorecard deliberately.
CANDIDATE_CHOICES = [
    ("search", _("the candidate the search chooses (one-standard-error rule)")),
    ("scorecard", _("the credit scorecard, deliberately")),
]
REQUESTED_CANDIDATES = {"search": None, "scorecard": SCORECARD}


class CandidateRetrainForm(RetrainForm):
    """The model pages' retrain form: also which candidate to register."""

    candidate = forms.ChoiceField(
        label=_("Candidate to register"),
        choices=CANDIDATE_CHOICES,
        initial="search",
        required=False,  # a form posted without it (an older page, a script) registers the rule's choice
        help_text=_(
            "Every candidate is searched and shown either way; the scorecard, whose points a committee reads bin "
            "by bin, may be registered even when another candidate scores better."
        ),
    )

    def requested_candidate(self) -> str | None:
        return REQUESTED_CANDIDATES[self.cleaned_data.get("candidate") or "search"]
