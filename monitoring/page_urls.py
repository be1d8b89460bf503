"""URLs of the monitoring pages: included by nplsite/urls.py under monitoring/."""

from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("<int:pk>/", views.version_monitoring, name="version"),
]
