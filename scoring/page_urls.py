"""URLs of the scoring pages (the REST API is in scoring/urls.py): included by nplsite/urls.py."""

from django.urls import path

from . import policy_views, views

dashboard_patterns = [path("", views.home, name="home")]

score_patterns = [
    path("", views.score_applicant, name="score"),
    path("applicants/<int:app_id>/", views.score_stored, name="score-stored"),
    path("predictions/<int:prediction_id>/", policy_views.prediction_detail, name="prediction"),
    path("predictions/<int:prediction_id>/rescore/", policy_views.rescore, name="rescore"),
]

policy_patterns = [
    path("", policy_views.policy_list, name="list"),
    path("new/", policy_views.policy_new, name="new"),
    path("<int:policy_id>/", policy_views.policy_detail, name="detail"),
    path("<int:policy_id>/activate/", policy_views.policy_activate, name="activate"),
]

batch_patterns = [
    path("", views.batch, name="index"),
    path("template.csv", views.batch_template, name="template"),
    path("<slug:job_id>/", views.batch_job, name="job"),
    path("<slug:job_id>/status.json", views.batch_job_status_json, name="status"),
    path("<slug:job_id>/retry/", views.batch_job_retry, name="retry"),
    path("<slug:job_id>/scored.csv", views.batch_job_download, name="download"),
    path("<slug:job_id>/errors.csv", views.batch_job_errors, name="errors"),
]
