"""URLs of the scoring pages (the REST API is in scoring/urls.py): included by nplsite/urls.py."""

from django.urls import path

from . import views

score_patterns = [
    path("", views.score_applicant, name="score"),
    path("applicants/<int:app_id>/", views.score_stored, name="score-stored"),
]

batch_patterns = [
    path("", views.batch, name="index"),
    path("<slug:job_id>/", views.batch_job, name="job"),
    path("<slug:job_id>/status.json", views.batch_job_status_json, name="status"),
    path("<slug:job_id>/scored.csv", views.batch_job_download, name="download"),
    path("<slug:job_id>/errors.csv", views.batch_job_errors, name="errors"),
]
