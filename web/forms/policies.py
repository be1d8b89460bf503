"""The form of a proposed decision policy (the policy pages and the Django admin use it)."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst

from scoring.models import DecisionPolicy
from scoring.policies import POLICY_FIELDS, policy_parameters
from scoring.policy_services import grade_bands_problem


class PolicyForm(forms.ModelForm):
    """Every figure of a policy and the reason. The reason is optional here so that a proposal can be
    previewed without one; :func:`scoring.policy_services.create_policy` refuses to store it empty."""

    reason = forms.CharField(
        label=capfirst(DecisionPolicy._meta.get_field("reason").verbose_name),
        help_text=DecisionPolicy._meta.get_field("reason").help_text,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = DecisionPolicy
        fields = list(POLICY_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # the admin shows a stored policy read-only: no fields
            if name in POLICY_FIELDS and name != "grade_bands":
                field.widget.attrs["step"] = "any"

    @classmethod
    def starting_from(cls, policy: DecisionPolicy) -> PolicyForm:
        """An unbound form holding ``policy``'s figures, written plainly (545, not 545.0)."""
        initial = {}
        for name in POLICY_FIELDS:
            value = getattr(policy, name)
            initial[name] = f"{value:.10g}" if isinstance(value, float) else value
        return cls(initial=initial)

    def clean_grade_bands(self):
        text = self.cleaned_data["grade_bands"].strip()
        problem = grade_bands_problem(text)
        if problem:
            raise forms.ValidationError(problem)
        return text

    def figures(self) -> dict:
        return {name: self.cleaned_data[name] for name in POLICY_FIELDS}

    def proposed_parameters(self):
        """The scorecard parameters of the proposal (a valid form)."""
        return policy_parameters(DecisionPolicy(**self.figures()))
