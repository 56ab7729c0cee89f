from django.urls import include, path, re_path

from portico.api.urls import api
from portico.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("portico.accounts.urls")),
    path("ehr/", include("portico.charts.urls")),
    path("ehr/settings/", include("portico.practices.urls")),
    path("ehr/outreach/", include("portico.outreach.urls")),
    path("portal/", include("portico.portal.urls")),
    path("hooks/", include("portico.notifications.urls")),
    path("", include("portico.records.urls")),
    path("api/v1/", api.urls),
    # Anything else under the API answers in the API's own error shape, not an HTML page.
    re_path(r"^api/v1/.*$", core_views.api_not_found),
    path("dev/mailbox/", core_views.mailbox_list, name="mailbox"),
    path("dev/mailbox/<str:key>/", core_views.mailbox_detail, name="mailbox_message"),
    path("dev/mailbox/<str:key>/html", core_views.mailbox_html, name="mailbox_html"),
    path("dev/sms/", core_views.sms_list, name="dev_sms"),
]
