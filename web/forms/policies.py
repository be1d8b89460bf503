"""The form of a proposed decision policy (the policy pages and the Django admin use it).

Written for a risk manager, not for the engine: probabilities and shares (the decline probability,
the loss given default, the NPL flag's recall target, the knock-out rules' down-payment share and
instalment-to-income cap) are entered as **percentages** (30, not 0.30),
and the grade bands as **one field per grade** (the minimum credit score of each grade, best first;
the lowest grade takes every score below the last one). The form turns them into what a policy
stores (fractions, and the bands as ``A:600,B:545,C:500,D:455,E``); the rules of what is allowed
stay in one place each (the ranges in :mod:`credit.scorecard`, the bands'
:func:`credit.scorecard.parse_grade_bands`, a stored policy's checks in
:mod:`scoring.policy_services`).
"""

from __future__ import annotations

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit.scorecard import (
    DECLINE_MIN_PD_RANGE,
    GRADE_BAND_RANGE,
    LGD_RANGE,
    MAX_INSTALLMENT_TO_INCOME_RANGE,
    MIN_DP_SHARE_RANGE,
    parse_grade_bands,
)
from scoring.models import DecisionPolicy
from scoring.policies import POLICY_FIELDS, policy_parameters
from scoring.policy_services import grade_bands_problem

RECALL_TARGET_RANGE = (0.01, 1.0)  # the model field's own validators
GRADES = re.compile(r"^[A-Z]{1,3}(,[A-Z]{1,3}){1,9}$")
DEFAULT_GRADES = ("A", "B", "C", "D", "E")


def _model_label(name: str) -> str:
    return capfirst(DecisionPolicy._meta.get_field(name).verbose_name)


class PercentField(forms.FloatField):
    """A share entered as a percentage (``30`` or ``12,5``) and cleaned to a fraction (``0.3``)."""

    def __init__(self, *, fraction_range: tuple[float, float], **kwargs):
        low, high = (round(value * 100, 6) for value in fraction_range)
        super().__init__(min_value=low, max_value=high, **kwargs)
        self.widget.attrs.update({"step": "any", "inputmode": "decimal"})

    def prepare_value(self, value):
        if isinstance(value, float):  # a fraction from a policy: shown as a percentage
            return f"{value * 100:.10g}"
        return value

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().rstrip("%").strip().replace(",", ".")
        return super().to_python(value)

    def clean(self, value):
        percentage = super().clean(value)
        return None if percentage is None else round(percentage / 100, 10)


class PolicyForm(forms.ModelForm):
    """Every figure of a policy and the reason. The reason is optional here so that a proposal can be
    previewed without one; :func:`scoring.policy_services.create_policy` refuses to store it empty.

    ``grades``: the grades the bands are for, best first (the last takes every score below the
    others); by default those of the policy the form starts from, else A–E. A bound form reads
    them from its hidden ``band_grades`` field."""

    reason = forms.CharField(
        label=_model_label("reason"),
        help_text=DecisionPolicy._meta.get_field("reason").help_text,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    decline_min_pd = PercentField(
        fraction_range=DECLINE_MIN_PD_RANGE,
        label=_("Decline from NPL probability (%)"),
        help_text=_("recommendation decline when the NPL probability is at least this, e.g. 30"),
    )
    lgd = PercentField(
        fraction_range=LGD_RANGE,
        label=_("Loss given default (%)"),
        help_text=_("share of the amount financed lost when a loan becomes NPL, e.g. 45"),
    )
    recall_target = PercentField(
        fraction_range=RECALL_TARGET_RANGE,
        label=_("NPL flag recall target (%)"),
        help_text=_(
            "share of NPL applicants the model's NPL flag must catch, e.g. 90; training chooses its threshold by it"
        ),
    )
    min_dp_share = PercentField(
        fraction_range=MIN_DP_SHARE_RANGE,
        required=False,
        label=_("Minimum down payment (% of the vehicle price)"),
        help_text=_("knock-out rule, optional: a smaller down payment is caught, e.g. 20"),
    )
    max_installment_to_income = PercentField(
        fraction_range=MAX_INSTALLMENT_TO_INCOME_RANGE,
        required=False,
        label=_("Maximum instalment-to-income (%)"),
        help_text=_(
            "knock-out rule, optional: an instalment (amount financed ÷ tenor) above this share of income "
            "is caught, e.g. 35"
        ),
    )
    band_grades = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = DecisionPolicy
        fields = [name for name in POLICY_FIELDS if name != "grade_bands"]

    def __init__(self, *args, grades: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            sent = (self.data.get(self.add_prefix("band_grades")) or "").strip()
            grades = tuple(sent.split(",")) if GRADES.match(sent) else DEFAULT_GRADES
        grades = tuple(grades or DEFAULT_GRADES)
        self.grades, self.lowest_grade = grades[:-1], grades[-1]
        self.fields["band_grades"].initial = ",".join(grades)
        for name, field in self.fields.items():  # the admin shows a stored policy read-only: no fields
            if name in POLICY_FIELDS and not isinstance(field, PercentField):
                field.widget.attrs["step"] = "any"
        low, high = GRADE_BAND_RANGE
        for grade in self.grades:
            self.fields[self.band_field(grade)] = forms.IntegerField(
                label=gettext("Grade %(grade)s from score") % {"grade": grade},
                min_value=int(low),
                max_value=int(high),
            )
        if self.grades:
            last = self.band_field(self.grades[-1])
            self.fields[last].help_text = gettext("below it: grade %(grade)s") % {"grade": self.lowest_grade}

    @staticmethod
    def band_field(grade: str) -> str:
        return f"band_{grade}"

    def band_fields(self) -> list:
        """The bound fields of the grade bands, best grade first (for the template)."""
        return [self[self.band_field(grade)] for grade in self.grades]

    @classmethod
    def starting_from(cls, policy: DecisionPolicy) -> PolicyForm:
        """An unbound form holding ``policy``'s figures, written plainly (545, not 545.0; 30 %, not 0.3)."""
        bands = parse_grade_bands(policy.grade_bands)
        initial = {}
        for name in POLICY_FIELDS:
            if name == "grade_bands":
                continue
            value = getattr(policy, name)
            if value is None or isinstance(value, str) or name in cls.declared_fields:
                initial[name] = value
            else:
                initial[name] = f"{value:.10g}"
        for grade, minimum in zip(bands.grades, bands.minimum_scores, strict=True):
            initial[cls.band_field(grade)] = f"{minimum:.10g}"
        return cls(initial=initial, grades=bands.all_grades)

    def clean(self):
        cleaned = super().clean()
        minimums = [cleaned.get(self.band_field(grade)) for grade in self.grades]
        if any(minimum is None for minimum in minimums):
            return cleaned  # a band's own error is shown at its field
        for earlier, later, grade in zip(minimums, minimums[1:], self.grades[1:], strict=False):
            if later >= earlier:
                self.add_error(
                    self.band_field(grade),
                    gettext("Must be below the grade above (%(above)s): bands descend from the best grade.")
                    % {"above": earlier},
                )
        text = ",".join(
            [f"{grade}:{minimum}" for grade, minimum in zip(self.grades, minimums, strict=True)] + [self.lowest_grade]
        )
        problem = grade_bands_problem(text)
        if problem and not self.errors:
            raise forms.ValidationError(problem)
        cleaned["grade_bands"] = text
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "grade_bands" in self.cleaned_data:
            self.instance.grade_bands = self.cleaned_data["grade_bands"]

    def figures(self) -> dict:
        return {name: self.cleaned_data[name] for name in POLICY_FIELDS}

    def proposed_parameters(self):
        """The scorecard parameters of the proposal (a valid form)."""
        return policy_parameters(DecisionPolicy(**self.figures()))
