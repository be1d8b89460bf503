"""Model pages: versions and their evaluation, retraining with live progress, activation and roll-back.

Model admins see every version and may retrain, activate and roll back; analysts see only the
active version, and the model-admin URLs answer them 403 (checked here on the server, and again by
the training services).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.services import Kind, break_glass_roll_back
from jobs.lifecycle import fail_if_stale
from nplsite.roles import analyst_required, is_model_admin, model_admin_required
from scoring.policies import current_policy
from training.models import ModelVersion, TrainingRun
from training.selectors import recent_training_runs
from training.services import ModelActivationError, request_retraining, retry_training_run
from web.dossier import dossier_filename, dossier_pdf, dossier_xlsx
from web.forms.training import CandidateRetrainForm
from web.page_selectors.dossier import version_dossier
from web.page_selectors.training import (
    activation_dialog,
    can_view_model_version,
    champion_comparison_summary,
    headline_metrics,
    model_version_report,
    rollback_target,
    training_run_status,
    visible_model_versions,
)
from web.pages.governance import propose_from_page


@analyst_required
@require_GET
def model_list(request):
    versions = [(version, headline_metrics(version)) for version in visible_model_versions(request.user)]
    context = {"versions": versions}
    if is_model_admin(request.user):
        active, previous = rollback_target()
        context.update(
            {
                "retrain_form": CandidateRetrainForm(),
                "runs": [fail_if_stale(run) for run in recent_training_runs(10)],
                "rollback_to": previous,
                "active": active,
            }
        )
    return render(request, "training/model_list.html", context)


def _visible_version(request, pk: int) -> ModelVersion:
    version = get_object_or_404(ModelVersion, pk=pk)
    if not can_view_model_version(request.user, version):
        raise PermissionDenied(gettext("Analysts can see the active model version only."))
    return version


@analyst_required
@require_GET
def model_detail(request, pk: int):
    version = _visible_version(request, pk)
    context = {"version": version, "report": model_version_report(version), "dossier": version_dossier(version)}
    return render(request, "training/model_detail.html", context)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@analyst_required
@require_GET
def model_dossier_pdf(request, pk: int):
    """The version's dossier as a dated PDF in the reader's language."""
    version = _visible_version(request, pk)
    language = translation.get_language()
    return _download(dossier_pdf(version, language), "application/pdf", dossier_filename(version, "pdf", language))


@analyst_required
@require_GET
def model_dossier_xlsx(request, pk: int):
    """The dossier's tables as an XLSX workbook in the reader's language."""
    version = _visible_version(request, pk)
    language = translation.get_language()
    return _download(
        dossier_xlsx(version, language),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        dossier_filename(version, "xlsx", language),
    )


@model_admin_required
@require_http_methods(["GET", "POST"])
def model_activate(request, pk: int):
    """GET: what activating this version would change; POST: propose it (with a reason) — a second
    Model admin approves it under Changes (four eyes, ``governance``)."""
    version = get_object_or_404(ModelVersion, pk=pk)
    if request.method == "POST":
        if propose_from_page(request, Kind.ACTIVATE_MODEL, version.pk, request.POST.get("reason", "")):
            return redirect("governance:changes")
        return redirect("training:activate", pk=version.pk)
    active, _ = rollback_target()
    return render(request, "training/confirm_activate.html", activation_dialog(version, active))


@model_admin_required
@require_http_methods(["GET", "POST"])
def model_rollback(request):
    """GET: confirm; POST ``action=propose``: propose the roll-back (a second Model admin approves it);
    ``action=break_glass``: roll back now, alone — the reason is required and the entry is flagged."""
    if request.method == "POST":
        if request.POST.get("action") == "break_glass":
            try:
                version = break_glass_roll_back(request.user, reason=request.POST.get("reason", ""))
            except ModelActivationError as exc:
                messages.error(request, str(exc))
                return redirect("training:list")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("training:rollback")
            messages.warning(
                request,
                gettext("Break-glass roll-back: %(version)s is active again. The audit log flags it.")
                % {"version": version},
            )
            return redirect("training:detail", pk=version.pk)
        if propose_from_page(request, Kind.ROLL_BACK_MODEL, None, request.POST.get("reason", "")):
            return redirect("governance:changes")
        return redirect("training:rollback")
    active, previous = rollback_target()
    return render(request, "training/confirm_rollback.html", {"active": active, "previous": previous})


@model_admin_required
@require_http_methods(["GET", "POST"])
def retrain(request):
    """GET: the retrain form; POST: queue a training run and follow its progress."""
    form = CandidateRetrainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        policy = current_policy()
        run = request_retraining(
            request.user,
            profile=form.cleaned_data["profile"],
            as_of=form.cleaned_data["as_of"],
            seed=form.cleaned_data["seed"],
            recall_target=policy.recall_target,
            score_scaling=policy.parameters,
            candidate=form.requested_candidate(),
        )
        return redirect("training:run", pk=run.pk)
    return render(request, "training/retrain.html", {"form": form}, status=400 if form.is_bound else 200)


@model_admin_required
@require_GET
def training_run(request, pk: int):
    run = fail_if_stale(get_object_or_404(TrainingRun.objects.select_related("started_by", "model_version"), pk=pk))
    comparison = (run.model_version.metrics or {}).get("champion_comparison") if run.model_version else None
    context = {
        "run": run,
        "status": training_run_status(run),
        "comparison_summary": champion_comparison_summary(comparison or {}),
    }
    return render(request, "training/run.html", context)


@never_cache
@model_admin_required
@require_GET
def training_run_status_json(request, pk: int):
    run = fail_if_stale(get_object_or_404(TrainingRun, pk=pk))
    return JsonResponse(training_run_status(run))


@model_admin_required
@require_POST
def training_run_retry(request, pk: int):
    """ "Start again" on a failed run: a new run with the same parameters."""
    run = get_object_or_404(TrainingRun, pk=pk)
    try:
        again = retry_training_run(run, request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("training:run", pk=run.pk)
    return redirect("training:run", pk=again.pk)
