"""URLs of the model pages: included by nplsite/urls.py under models/."""

from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.model_list, name="list"),
    path("<int:pk>/", views.model_detail, name="detail"),
    path("<int:pk>/activate/", views.model_activate, name="activate"),
    path("rollback/", views.model_rollback, name="rollback"),
    path("retrain/", views.retrain, name="retrain"),
    path("runs/<int:pk>/", views.training_run, name="run"),
    path("runs/<int:pk>/status.json", views.training_run_status_json, name="run-status"),
    path("runs/<int:pk>/retry/", views.training_run_retry, name="run-retry"),
]
