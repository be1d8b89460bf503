"""Admin pages for model versions and training runs, with the Model admin's actions.

The admin site admits Model admins only (``web.admin_site``); every action also checks
``is_model_admin`` (Django's ``permissions=["model_admin"]``) and calls one service.
Everything is read-only: versions and runs are records of what happened.
"""

from pathlib import PurePath

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit.model_search import PROFILES
from nplsite.numbers import decimal_text
from nplsite.roles import is_model_admin
from scoring.policies import current_policy
from training.models import ModelVersion, TrainingRun
from training.services import ModelActivationError, activate_model_version, request_retraining, roll_back_model_version
from web.admin_site import ReadOnlyForModelAdmins
from web.forms.training import CandidateRetrainForm
from web.page_selectors.training import champion_comparison_summary


def _table(headers, rows):
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html('<table class="npl-admin-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


def _number(value, digits=3):
    """A metric for an admin cell: ``digits`` decimals in the active language (never 0.06978951623625695)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return decimal_text(value, digits)
    return str(value)


def _run_link(run):
    url = reverse("admin:training_trainingrun_change", args=[run.pk])
    return format_html('<a href="{}">{}</a>', url, gettext("training run #%(id)s") % {"id": run.pk})


def _enqueue_and_report(modeladmin, request, *, profile, as_of, seed, candidate=None):
    policy = current_policy()
    run = request_retraining(
        request.user,
        profile=profile,
        as_of=as_of,
        seed=seed,
        recall_target=policy.recall_target,
        score_scaling=policy.parameters,
        candidate=candidate,
    )
    if run.status == TrainingRun.Status.FAILED:
        modeladmin.message_user(request, format_html("{}: {}", _run_link(run), run.error), messages.ERROR)
    else:
        modeladmin.message_user(
            request,
            format_html(
                gettext("Retraining queued as {} (profile {}). It runs in the background."), _run_link(run), profile
            ),
            messages.SUCCESS,
        )
    return run


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = [
        "name",
        "id",
        "is_active",
        "status",
        "test_precision",
        "test_recall",
        "test_pr_auc",
        "threshold_display",
        "trained_at",
        "activated_at",
    ]
    list_filter = ["is_active", "status", "algorithm", "balancing"]
    search_fields = ["name", "algorithm", "balancing"]
    actions = ["activate_version", "roll_back"]
    fields = [
        "name",
        "status",
        "is_active",
        "activated_at",
        "trained_at",
        "algorithm",
        "balancing",
        "threshold_display",
        "hyperparameters_table",
        "test_metrics_table",
        "confusion_matrix_table",
        "calibration_table",
        "champion_comparison",
        "training_data_table",
        "artifact_file",
        "artifact_sha256",
        "artifact_size",
    ]
    readonly_fields = fields

    @admin.display(description=_("artifact file"))
    def artifact_file(self, obj):
        return PurePath(obj.artifact_path).name  # the file's name, never the server's folders

    @admin.display(description=_("test precision"))
    def test_precision(self, obj):
        return _number(obj.metrics.get("precision"))

    @admin.display(description=_("test recall"))
    def test_recall(self, obj):
        return _number(obj.metrics.get("recall"))

    @admin.display(description=_("test PR AUC"))
    def test_pr_auc(self, obj):
        return _number(obj.metrics.get("pr_auc"))

    @admin.display(description=_("threshold"))
    def threshold_display(self, obj):
        return _number(obj.threshold, 4)

    @admin.display(description=_("hyperparameters"))
    def hyperparameters_table(self, obj):
        return _table([_("parameter"), _("value")], sorted(obj.hyperparameters.items()))

    @admin.display(description=_("test metrics"))
    def test_metrics_table(self, obj):
        m, v = obj.metrics, obj.metrics.get("out_of_fold", {})
        intervals = m.get("intervals") or {}

        def interval(key):
            low_high = intervals.get(key)
            return f"{_number(low_high[0], 4)} – {_number(low_high[1], 4)}" if low_high else "—"

        keys = ["precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc", "brier", "applicants", "npl"]
        rows = [(key, _number(m.get(key), 4), interval(key), _number(v.get(key), 4)) for key in keys]
        rows.append(("brier before calibration", "—", "—", _number(v.get("brier_before_calibration"), 4)))
        return _table([_("metric"), _("test"), _("test 95 % interval"), _("out of fold (development)")], rows)

    @admin.display(description=_("confusion matrix (test)"))
    def confusion_matrix_table(self, obj):
        cm = obj.metrics.get("confusion_matrix") or {}
        return _table(
            ["", _("predicted NPL"), _("predicted not NPL")],
            [
                (_("actually NPL"), cm.get("tp", "—"), cm.get("fn", "—")),
                (_("actually not NPL"), cm.get("fp", "—"), cm.get("tn", "—")),
            ],
        )

    @admin.display(description=_("calibration (test deciles)"))
    def calibration_table(self, obj):
        rows = [
            (row["bin"], row["count"], _number(row["mean_predicted"], 4), _number(row["observed_rate"], 4))
            for row in obj.metrics.get("calibration", [])
        ]
        return _table([_("decile"), _("applicants"), _("mean predicted"), _("observed NPL rate")], rows)

    @admin.display(description=_("champion / challenger"))
    def champion_comparison(self, obj):
        return champion_comparison_summary(obj.metrics.get("champion_comparison") or {}) or "—"

    @admin.display(description=_("training data"))
    def training_data_table(self, obj):
        data = obj.training_data
        rows = [
            (key, data[key]) for key in ("as_of", "profile", "seed", "applicants", "npl", "npl_rate") if key in data
        ]
        for part in ("development", "test"):
            if isinstance(data.get(part), dict):
                rows.append((part, f"{data[part]['applicants']} applicants, {data[part]['npl']} NPL"))
        if data.get("method"):
            rows.append(("split", data["method"]))
        return _table([_("item"), _("value")], rows)

    @admin.action(description=_("Activate this version"), permissions=["model_admin"])
    def activate_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.ERROR)
            return None
        try:
            version = activate_model_version(queryset.get(), request.user)
        except ModelActivationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.message_user(
            request, gettext("%(version)s is now the active model version.") % {"version": version}, messages.SUCCESS
        )
        return None

    @admin.action(description=_("Roll back to the previous version"), permissions=["model_admin"])
    def roll_back(self, request, queryset):
        try:
            version = roll_back_model_version(request.user)
        except ModelActivationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.message_user(
            request,
            gettext("Rolled back: %(version)s is the active model version again.") % {"version": version},
            messages.SUCCESS,
        )
        return None


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyForModelAdmins, admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "progress",
        "current_step",
        "started_by",
        "created_at",
        "finished_at",
        "model_version",
    ]
    list_filter = ["status"]
    actions = ["retrain_now"]
    change_list_template = "admin/training/trainingrun/change_list.html"
    fields = [
        "status",
        "progress",
        "current_step",
        "parameters",
        "started_by",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "model_version",
        "error",
        "leaderboard_table",
        "log_text",
        "celery_task_id",
    ]
    readonly_fields = fields

    def get_urls(self):
        return [
            path("retrain/", self.admin_site.admin_view(self.retrain_view), name="training_trainingrun_retrain"),
            *super().get_urls(),
        ]

    def retrain_view(self, request):
        """A small form (profile, as-of date, seed, which candidate to register); POST queues the run and
        returns at once."""
        if not is_model_admin(request.user):
            raise PermissionDenied
        form = CandidateRetrainForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _enqueue_and_report(
                self,
                request,
                profile=form.cleaned_data["profile"],
                as_of=form.cleaned_data["as_of"],
                seed=form.cleaned_data["seed"],
                candidate=form.requested_candidate(),
            )
            return HttpResponseRedirect(reverse("admin:training_trainingrun_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retrain now"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/training/trainingrun/retrain.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if run is not None and run.status in (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING):
            extra_context["auto_refresh_seconds"] = 5
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("leaderboard"))
    def leaderboard_table(self, obj):
        if not obj.leaderboard:
            return "—"
        rows = [
            (
                ("★ chosen" if row.get("chosen") else "") + (" (best mean)" if row.get("best_mean") else ""),
                row["algorithm"],
                row["balancing"],
                ", ".join(f"{k}={v}" for k, v in sorted((row.get("best_params") or {}).items())) or "—",
                f"{_number(row.get('cv_mean'))} ± {_number(row.get('cv_se'))}",
                _number(row.get("cv_precision_at_recall")),
                _number(row.get("cv_pr_auc")),
                _number(row.get("fit_seconds"), 1),
                row.get("error") or "",
            )
            for row in obj.leaderboard
        ]
        headers = [
            "",
            _("algorithm"),
            _("balancing"),
            _("best parameters"),
            _("CV ROC AUC ± SE"),
            _("CV precision at recall target"),
            _("CV PR AUC"),
            _("fit s"),
            _("error"),
        ]
        return _table(headers, rows)

    @admin.display(description=_("log"))
    def log_text(self, obj):
        return format_html('<pre class="npl-admin-log" lang="en">{}</pre>', obj.log)

    @admin.action(description=_("Retrain now (with the selected run's parameters)"), permissions=["model_admin"])
    def retrain_now(self, request, queryset):
        source = queryset.order_by("-created_at", "-id").first()
        parameters = source.parameters if source else {}
        profile = parameters.get("profile") if parameters.get("profile") in PROFILES else "quick"
        as_of = None
        if parameters.get("as_of"):
            from datetime import date

            as_of = date.fromisoformat(parameters["as_of"])
        _enqueue_and_report(self, request, profile=profile, as_of=as_of, seed=int(parameters.get("seed", 7)))
        return None
