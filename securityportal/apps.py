"""The Django admin, installed with the portal's own site (``securityportal.admin_site``)."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "securityportal.admin_site.PortalAdminSite"
