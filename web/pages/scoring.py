"""Pages for scoring one applicant: the score form and "score now" on a stored applicant.

Thin views: read the request, call one service or selector, render. Analysts (and Model admins,
who are analysts too) only.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from applicants.models import Applicant
from nplsite.numbers import decimal_text
from nplsite.roles import analyst_required
from scoring.engine import ScoringUnavailableError
from scoring.policies import current_policy, grade_band_rows
from scoring.services import ApplicantDataError, score_form_applicant, score_stored_applicant
from training.selectors import get_active_model_version
from web.charts import gauge
from web.forms.scoring import ScoreForm


def _result_context(result) -> dict:
    prediction = result.prediction
    return {
        "prediction": prediction,
        "gauge": gauge(prediction.npl_probability, prediction.threshold),
    }


@analyst_required
@require_http_methods(["GET", "POST"])
def score_applicant(request):
    """The score form: nine attributes in, probability, score, grade, expected loss and reasons out."""
    policy = current_policy()
    context = {
        "active_model": get_active_model_version(),
        "policy": policy,
        "policy_bands": grade_band_rows(policy.parameters),
    }
    if request.method == "POST":
        form = ScoreForm(request.POST)
        if form.is_valid():
            try:
                result = score_form_applicant(form.attributes(), user=request.user, app_id=form.app_id_to_save())
            except ApplicantDataError as exc:
                for name, field_messages in exc.errors.get(0, {}).items():
                    for message in field_messages:
                        form.add_error(name if name in form.fields else None, message)
            except ScoringUnavailableError as exc:
                form.add_error(None, str(exc))
            else:
                context.update(_result_context(result))
        status = 200 if form.is_valid() else 400
    else:
        form, status = ScoreForm(), 200
    context["form"] = form
    return render(request, "scoring/score.html", context, status=status)


@analyst_required
@require_POST
def score_stored(request, app_id: int):
    """ "Score now" on an applicant's page: score with the active model, then show the applicant."""
    applicant = get_object_or_404(Applicant, app_id=app_id)
    try:
        result = score_stored_applicant(applicant, user=request.user)
    except ScoringUnavailableError as exc:
        messages.error(request, str(exc))
    else:
        prediction = result.prediction
        messages.success(
            request,
            gettext(
                "Scored with %(model)s: grade %(grade)s, credit score %(score)s, NPL probability %(probability)s %%."
            )
            % {
                "model": prediction.model_version.name,
                "grade": prediction.risk_grade,
                "score": prediction.credit_score,
                "probability": decimal_text(prediction.npl_probability * 100, 1),
            },
        )
    return redirect(reverse("applicants:detail", args=[app_id]) + "#predictions")
