"""URLs of the applicant pages: included by nplsite/urls.py under applicants/."""

from django.urls import path

from . import views

app_name = "applicants"
urlpatterns = [
    path("", views.applicant_index, name="list"),
    path("<int:app_id>/", views.applicant_detail, name="detail"),
]
