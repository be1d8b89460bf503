from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class NplSiteConfig(AppConfig):
    """Site-wide pieces: roles (groups and their data migration), demo users, health."""

    name = "nplsite"
    label = "nplsite"
    verbose_name = "NPL platform"

    def ready(self):
        from . import checks  # noqa: F401 (registers the start-up checks)


class NplAdminConfig(AdminConfig):
    default_site = "nplsite.admin_site.NplAdminSite"
