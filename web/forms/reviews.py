"""The review desk's forms: the queue's filters (GET), a decision, a note, an assignment, the override
report's period. The rules of what a decision needs live in :mod:`reviews.services`; these forms only
read the request."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from reviews.models import NOTE_MAX_LENGTH, ReasonCode, ReviewCase, ReviewDecision
from reviews.selectors import UNASSIGNED
from scoring.models import Prediction

MINE = "me"


class QueueFilterForm(forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    age = forms.ChoiceField(
        label=_("Age"),
        required=False,
        choices=[("", _("All")), ("overdue", _("Past the target")), ("within_target", _("Within the target"))],
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Prediction.Channel.choices]
    )
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *[(value, label) for value, label in ReviewCase.Status.choices if value != "decided"]],
    )

    def __init__(self, *args, grades=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [("", _("All")), *[(grade, grade) for grade in grades]]
        self.fields["assignee"].choices = [
            ("", _("Anyone or no one")),
            (MINE, _("Me")),
            (UNASSIGNED, _("No one (unassigned)")),
            *[(user.get_username(), user.get_username()) for user in users],
        ]
        self._users = {user.get_username(): user for user in users}

    def filters(self, user) -> dict:
        """Keyword arguments for :func:`reviews.selectors.queue` (call after is_valid)."""
        data = self.cleaned_data
        assignee = data.get("assignee") or None
        if assignee == MINE:
            assignee = user
        elif assignee not in (None, UNASSIGNED):
            assignee = self._users[assignee]
        return {
            "grade": data.get("grade") or None,
            "age": data.get("age") or None,
            "channel": data.get("channel") or None,
            "assignee": assignee,
            "status": data.get("status") or None,
        }


class ReasonCodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=ReviewDecision.Outcome.choices, widget=forms.RadioSelect)
    reason_code = ReasonCodeChoiceField(
        label=_("Reason"),
        required=False,
        queryset=ReasonCode.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("— choose a reason —"),
        help_text=_("required when the decision goes against the recommendation (an override)"),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("what you checked and why you decided so"),
    )

    def decision(self) -> dict:
        """Keyword arguments for :func:`reviews.services.record_decision` (call after is_valid)."""
        reason = self.cleaned_data.get("reason_code")
        return {
            "outcome": self.cleaned_data["outcome"],
            "reason_code": reason.code if reason is not None else None,
            "note": self.cleaned_data.get("note") or "",
        }


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}), strip=True
    )


class SendToReviewForm(forms.Form):
    note = forms.CharField(label=_("Why"), required=False, max_length=NOTE_MAX_LENGTH)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        required=False,
        queryset=get_user_model().objects.none(),
        to_field_name="username",
        empty_label=_("No one (release)"),
    )

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["assignee"].queryset = users


class OverrideReportForm(forms.Form):
    date_from = forms.DateField(label=_("Decided from"), required=False)
    date_to = forms.DateField(label=_("Decided up to"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period is after its end."))
        return data
