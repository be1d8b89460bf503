from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from nplsite.roles import is_model_admin


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


class ReadOnlyForModelAdmins:
    """A ``ModelAdmin`` (or inline) that Model admins see and nobody changes here: the role decides,
    since the role groups carry no Django permissions. A subclass that allows a change says so by
    overriding the method."""

    def has_module_permission(self, request):
        return is_model_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_model_admin(request.user)

    def has_add_permission(self, request, obj=None):  # obj: inlines are asked with the parent object
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_model_admin_permission(self, request):  # of the actions declared with permissions=["model_admin"]
        return is_model_admin(request.user)
