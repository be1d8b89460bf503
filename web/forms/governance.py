"""The audit log's filters (the page and ``GET /api/v1/audit-log`` read the same ones)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from governance.models import AuditEntry


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(
        label=_("What"), choices=[("", _("Everything")), *AuditEntry.ObjectType.choices], required=False
    )
    action = forms.ChoiceField(label=_("Action"), choices=[("", _("Any")), *AuditEntry.Action.choices], required=False)
    actor = forms.CharField(label=_("Who (user name)"), max_length=150, required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    break_glass = forms.BooleanField(label=_("Break-glass only"), required=False)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        actor = cleaned.get("actor")
        if actor and not get_user_model().objects.filter(username=actor).exists():
            self.add_error("actor", _("No user is called %(name)s.") % {"name": actor})
        return cleaned

    def entries(self):
        """The entries the (valid) filters select."""
        data = self.cleaned_data
        entries = AuditEntry.objects.all()
        if data.get("object_type"):
            entries = entries.filter(object_type=data["object_type"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("actor"):
            entries = entries.filter(actor__username=data["actor"])
        if data.get("since"):
            entries = entries.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(created_at__date__lte=data["until"])
        if data.get("break_glass"):
            entries = entries.filter(break_glass=True)
        return entries
