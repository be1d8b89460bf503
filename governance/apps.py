from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """Four eyes on what moves money (maker-checker for model and policy activation) and the one
    append-only configuration audit log."""

    name = "governance"
    verbose_name = _("Changes and audit log")
