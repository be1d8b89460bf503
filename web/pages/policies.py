"""Pages of the decision policies (Model admins): the list, a proposal with its strategy curves, a policy,
its activation; and, for Analysts, a prediction's page and re-scoring a prediction under the policy in force.

Thin views: read the request, call one service or selector, shape the strategy figures into charts.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credit.strategy import Comparison, decline_table_rows, table_rows
from governance.services import Kind, record_policy_created
from nplsite.roles import analyst_required, model_admin_required
from scoring import strategy
from scoring.engine import ScoringUnavailableError
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import grade_band_rows, list_policies, policy_parameters
from scoring.policy_services import create_policy, ensure_active_policy, rescore_prediction
from web.charts import Series, gauge, line_chart
from web.forms.policies import PolicyForm
from web.pages.governance import propose_from_page
from web.templatetags.npl_format import percent


def _percent_tick(value: float) -> str:
    return f"{value * 100:.0f} %"


def _rupiah_millions_tick(value: float) -> str:
    return f"{value / 1e6:,.0f}".replace(",", " ")


def strategy_charts(comparison: Comparison) -> dict:
    """The two charts of a comparison: the rates against the approve cut-off, and the expected loss."""
    curve = comparison.curve
    cutoffs = [item.cutoff for item in curve]
    x_range = (min(cutoffs), max(cutoffs))
    active, proposed = comparison.active, comparison.proposed
    rates = line_chart(
        [
            Series([(p.cutoff, p.approval_rate) for p in curve], gettext("Approval rate"), css="series-approval"),
            Series(
                [(p.cutoff, p.npl_rate_approved) for p in curve if p.npl_rate_approved is not None],
                gettext("NPL rate among the approved"),
                css="series-npl-rate",
            ),
            Series(
                [(p.cutoff, p.npl_caught) for p in curve if p.npl_caught is not None],
                gettext("NPL caught (not approved)"),
                css="series-caught",
            ),
            Series(
                [(active.cutoff, active.approval_rate)],
                gettext("Active policy: approval rate %(rate)s") % {"rate": percent(active.approval_rate)},
                css="series-active-point",
                markers=True,
            ),
            Series(
                [(proposed.cutoff, proposed.approval_rate)],
                gettext("Proposed policy: approval rate %(rate)s") % {"rate": percent(proposed.approval_rate)},
                css="series-proposed-point",
                markers=True,
            ),
        ],
        x_range=x_range,
        y_range=(0.0, 1.0),
        width=640,
        height=320,
        tick_format=_percent_tick,
    )
    rates["x_ticks"] = _score_ticks(rates, x_range)
    total = max(curve[0].expected_loss_approved + curve[0].expected_loss_avoided, 1)
    losses = line_chart(
        [
            Series(
                [(p.cutoff, p.expected_loss_approved) for p in curve],
                gettext("Expected loss approved"),
                css="series-loss",
            ),
            Series(
                [(p.cutoff, p.expected_loss_avoided) for p in curve],
                gettext("Expected loss avoided"),
                css="series-avoided",
            ),
            Series(
                [(active.cutoff, active.expected_loss_approved)],
                gettext("Active policy"),
                css="series-active-point",
                markers=True,
            ),
            Series(
                [(proposed.cutoff, proposed.expected_loss_approved)],
                gettext("Proposed policy"),
                css="series-proposed-point",
                markers=True,
            ),
        ],
        x_range=x_range,
        y_range=(0.0, float(total)),
        width=640,
        height=320,
        tick_format=_rupiah_millions_tick,
    )
    losses["x_ticks"] = _score_ticks(losses, x_range)
    return {"rates": rates, "losses": losses}


def _score_ticks(chart: dict, x_range: tuple[float, float]) -> list[dict]:
    """x ticks as whole scores (the chart's own ticks use the y format)."""
    low, high = x_range
    ticks = chart["x_ticks"]
    return [{**tick, "label": f"{low + (high - low) * i / (len(ticks) - 1):.0f}"} for i, tick in enumerate(ticks)]


def _comparison_context(active: DecisionPolicy, proposed_parameters) -> dict:
    try:
        comparison = strategy.compare(policy_parameters(active), proposed_parameters)
    except (ScoringUnavailableError, strategy.StrategyUnavailableError) as exc:
        return {"strategy_error": str(exc)}
    return {
        "comparison": comparison,
        "charts": strategy_charts(comparison),
        "table": table_rows(comparison),
        "decline_table": decline_table_rows(comparison),
    }


@model_admin_required
@require_GET
def policy_list(request):
    active = ensure_active_policy()
    context = {
        "policies": list_policies(),
        "active": active,
        "bands": grade_band_rows(policy_parameters(active)),
    }
    return render(request, "policies/list.html", context)


@model_admin_required
@require_http_methods(["GET", "POST"])
def policy_new(request):
    """A proposal: GET shows the active policy's figures; POST ``action=preview`` shows the strategy
    curves with the proposal beside the active policy; ``save`` or ``activate`` stores it."""
    active = ensure_active_policy()
    context = {"active": active}
    status = 200
    if request.method == "POST":
        form = PolicyForm(request.POST)
        action = request.POST.get("action", "preview")
        if form.is_valid():
            if action in ("save", "activate"):
                try:
                    policy = create_policy(request.user, reason=form.cleaned_data["reason"], **form.figures())
                except ValidationError as exc:
                    for field, field_messages in exc.message_dict.items():
                        for message in field_messages:
                            form.add_error(field if field in form.fields else None, message)
                else:
                    record_policy_created(policy, request.user)
                    if action == "activate" and propose_from_page(
                        request, Kind.ACTIVATE_POLICY, policy.pk, policy.reason
                    ):
                        return redirect("governance:changes")
                    messages.success(request, gettext("Policy #%(id)s is saved, not active.") % {"id": policy.pk})
                    return redirect("policies:detail", policy_id=policy.pk)
            if form.is_valid():
                context.update(_comparison_context(active, form.proposed_parameters()))
            context["proposed_bands"] = grade_band_rows(form.proposed_parameters()) if form.is_valid() else None
        if not form.is_valid():
            status = 400
    else:
        form = PolicyForm.starting_from(active)
    context["form"] = form
    return render(request, "policies/new.html", context, status=status)


@model_admin_required
@require_GET
def policy_detail(request, policy_id: int):
    policy = get_object_or_404(list_policies(), pk=policy_id)
    active = ensure_active_policy()
    context = {
        "policy": policy,
        "active": active,
        "bands": grade_band_rows(policy_parameters(policy)),
        "predictions": Prediction.objects.filter(policy=policy).count(),
    }
    if not policy.is_active:
        context.update(_comparison_context(active, policy_parameters(policy)))
    return render(request, "policies/detail.html", context)


@model_admin_required
@require_POST
def policy_activate(request, policy_id: int):
    """Propose the activation (four eyes): a second Model admin approves it under Changes."""
    policy = get_object_or_404(DecisionPolicy, pk=policy_id)
    if propose_from_page(request, Kind.ACTIVATE_POLICY, policy.pk, request.POST.get("reason", "")):
        return redirect("governance:changes")
    return redirect("policies:detail", policy_id=policy.pk)


@analyst_required
@require_GET
def prediction_detail(request, prediction_id: int):
    """One stored prediction as it was answered, with its model version and decision policy."""
    prediction = get_object_or_404(
        Prediction.objects.select_related("applicant", "model_version", "policy", "user"), pk=prediction_id
    )
    context = {
        "prediction": prediction,
        "gauge": gauge(prediction.npl_probability, prediction.threshold),
        "policy_bands": grade_band_rows(policy_parameters(prediction.policy)) if prediction.policy else None,
    }
    return render(request, "scoring/prediction.html", context)


@analyst_required
@require_POST
def rescore(request, prediction_id: int):
    """Re-score a stored prediction under the policy in force: a new prediction, the old one kept."""
    old = get_object_or_404(Prediction.objects.select_related("applicant", "model_version"), pk=prediction_id)
    new = rescore_prediction(old, user=request.user)
    messages.success(
        request,
        gettext(
            "Prediction #%(old)s re-scored under policy #%(policy)s: grade %(grade)s, %(recommendation)s "
            "(was grade %(old_grade)s, %(old_recommendation)s)."
        )
        % {
            "old": old.pk,
            "policy": new.policy_id,
            "grade": new.risk_grade,
            "recommendation": new.get_recommendation_display(),
            "old_grade": old.risk_grade,
            "old_recommendation": old.get_recommendation_display(),
        },
    )
    return redirect("scoring:prediction", prediction_id=new.pk)
