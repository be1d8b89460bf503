from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from scoring.page_urls import batch_patterns, dashboard_patterns, policy_patterns, score_patterns

from . import views

urlpatterns = [
    path("", include(dashboard_patterns)),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch is on the login page too, so it must not need a login itself.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # Analyst pages.
    path("applicants/", include("applicants.page_urls")),
    path("score/", include((score_patterns, "scoring"))),
    path("batch/", include((batch_patterns, "batch"))),
    path("models/", include("training.page_urls")),
    path("policies/", include((policy_patterns, "policies"))),
    path("monitoring/", include("monitoring.page_urls")),
    path("", include("scoring.urls")),
    path("", include("monitoring.urls")),
]

# JSON under /api/ and /predict/, the site's pages elsewhere (nplsite/errors.py).
handler400 = "nplsite.errors.bad_request"
handler404 = "nplsite.errors.page_not_found"
handler500 = "nplsite.errors.server_error"
