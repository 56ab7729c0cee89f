from django.urls import include, path, re_path

from portico.api.urls import api
from portico.charts import urls as chart_urls
from portico.core import views as core_views
from portico.fhir.authorize_views import smart_configuration
from portico.messaging import chart_urls as chart_messaging_urls
from portico.portal import staff_urls as chart_portal_urls
from portico.scheduling import chart_urls as chart_scheduling_urls

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("system-requirements/", core_views.system_requirements, name="system_requirements"),
    path("accounts/", include("portico.accounts.urls")),
    # A chart's pages share the "charts" namespace; the chart page itself, with its portal
    # window, is the portal app's (it shows the portal state, which charts knows nothing of).
    path(
        "ehr/",
        include(
            (
                chart_urls.urlpatterns
                + chart_portal_urls.urlpatterns
                + chart_messaging_urls.urlpatterns
                + chart_scheduling_urls.urlpatterns,
                "charts",
            )
        ),
    ),
    path("ehr/settings/patient-apps/", include("portico.fhir.settings_urls")),
    path("ehr/settings/", include("portico.practices.urls")),
    path("ehr/outreach/", include("portico.outreach.urls")),
    path("portal/apps/", include("portico.fhir.portal_urls")),
    path("portal/", include("portico.portal.urls")),
    path("hooks/", include("portico.notifications.urls")),
    path("", include("portico.records.urls")),
    path("", include("portico.messaging.urls")),
    path("", include("portico.scheduling.urls")),
    path("", include("portico.booking.urls")),
    path("", include("portico.intake.urls")),
    path("o/", include("portico.fhir.oauth_urls")),
    path(".well-known/smart-configuration", smart_configuration, name="smart_configuration"),
    path("fhir/R4/", include("portico.fhir.urls")),
    path("api/v1/", api.urls),
    # Anything else under the API answers in the API's own error shape, not an HTML page.
    re_path(r"^api/v1/.*$", core_views.api_not_found),
    path("dev/", include("portico.notifications.dev_urls")),
]
