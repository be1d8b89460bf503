"""The site's URLs: its pages, the REST API (``web/api/urls.py``), the admin, login and health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from web.pages import (
    applicants,
    batch,
    dashboard,
    governance,
    health,
    monitoring,
    policies,
    reviews,
    scoring,
    training,
)

applicant_patterns = [
    path("", applicants.applicant_index, name="list"),
    path("<int:app_id>/", applicants.applicant_detail, name="detail"),
]

score_patterns = [
    path("", scoring.score_applicant, name="score"),
    path("applicants/<int:app_id>/", scoring.score_stored, name="score-stored"),
    path("predictions/<int:prediction_id>/", policies.prediction_detail, name="prediction"),
    path("predictions/<int:prediction_id>/rescore/", policies.rescore, name="rescore"),
]

batch_patterns = [
    path("", batch.batch, name="index"),
    path("template.csv", batch.batch_template, name="template"),
    path("rescore/", batch.batch_rescore, name="rescore"),
    path("<slug:job_id>/", batch.batch_job, name="job"),
    path("<slug:job_id>/status.json", batch.batch_job_status_json, name="status"),
    path("<slug:job_id>/retry/", batch.batch_job_retry, name="retry"),
    path("<slug:job_id>/scored.csv", batch.batch_job_download, name="download"),
    path("<slug:job_id>/scored-excel.csv", batch.batch_job_download_excel, name="download-excel"),
    path("<slug:job_id>/errors.csv", batch.batch_job_errors, name="errors"),
]

model_patterns = [
    path("", training.model_list, name="list"),
    path("<int:pk>/", training.model_detail, name="detail"),
    path("<int:pk>/dossier.pdf", training.model_dossier_pdf, name="dossier-pdf"),
    path("<int:pk>/dossier.xlsx", training.model_dossier_xlsx, name="dossier-xlsx"),
    path("<int:pk>/activate/", training.model_activate, name="activate"),
    path("rollback/", training.model_rollback, name="rollback"),
    path("retrain/", training.retrain, name="retrain"),
    path("runs/<int:pk>/", training.training_run, name="run"),
    path("runs/<int:pk>/status.json", training.training_run_status_json, name="run-status"),
    path("runs/<int:pk>/retry/", training.training_run_retry, name="run-retry"),
]

policy_patterns = [
    path("", policies.policy_list, name="list"),
    path("new/", policies.policy_new, name="new"),
    path("<int:policy_id>/", policies.policy_detail, name="detail"),
    path("<int:policy_id>/activate/", policies.policy_activate, name="activate"),
]

review_patterns = [
    path("", reviews.review_queue, name="queue"),
    path("overrides/", reviews.override_report_page, name="overrides"),
    path("<int:prediction_id>/", reviews.review_case, name="case"),
    path("<int:prediction_id>/claim/", reviews.review_claim, name="claim"),
    path("<int:prediction_id>/release/", reviews.review_release, name="release"),
    path("<int:prediction_id>/assign/", reviews.review_assign, name="assign"),
    path("<int:prediction_id>/notes/", reviews.review_note, name="note"),
    path("<int:prediction_id>/send/", reviews.review_send, name="send"),
    path("<int:prediction_id>/decision/", reviews.review_decide, name="decide"),
]

monitoring_patterns = [
    path("<int:pk>/", monitoring.version_monitoring, name="version"),
]

change_patterns = [
    path("", governance.changes, name="changes"),
    path("<int:change_id>/approve/", governance.change_approve, name="approve"),
    path("<int:change_id>/reject/", governance.change_reject, name="reject"),
    path("audit/", governance.audit_log, name="audit"),
]

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch is on the login page too, so it must not need a login itself.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # Analyst pages.
    path("applicants/", include((applicant_patterns, "applicants"))),
    path("score/", include((score_patterns, "scoring"))),
    path("batch/", include((batch_patterns, "batch"))),
    path("models/", include((model_patterns, "training"))),
    path("policies/", include((policy_patterns, "policies"))),
    path("monitoring/", include((monitoring_patterns, "monitoring"))),
    path("changes/", include((change_patterns, "governance"))),
    path("reviews/", include((review_patterns, "reviews"))),
    # The REST API and /predict/.
    path("", include("web.api.urls")),
]

# JSON under /api/ and /predict/, the site's pages elsewhere (web/errors.py).
handler400 = "web.errors.bad_request"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"
