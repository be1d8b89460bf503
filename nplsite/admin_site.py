from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .roles import is_model_admin


class NplAdminSite(admin.AdminSite):
    """The Django admin, open only to Model admins (and superusers)."""

    site_header = _("NPL risk platform administration")
    site_title = _("NPL risk admin")
    index_title = _("Models, applicants and training runs")
    # The navigation sidebar repeats the index and takes 300 px from every change list at 1280 px.
    enable_nav_sidebar = False

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_staff and is_model_admin(user))
