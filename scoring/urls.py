"""URLs of the scoring app: the REST API under /api/v1/ and the deprecated /predict/."""

urlpatterns = []
