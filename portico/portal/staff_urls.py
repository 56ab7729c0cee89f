"""The chart page and its portal window's actions. They belong to the "charts" URL namespace
(portico/urls.py joins them to charts' own), so a chart's pages are named alike."""

from django.urls import path

from portico.portal import staff_views

urlpatterns = [
    path("patients/<uuid:patient_id>/", staff_views.chart, name="chart"),
    path(
        "patients/<uuid:patient_id>/portal/<str:action>/",
        staff_views.portal_action,
        name="portal_action",
    ),
    # The chart's representatives (SPEC §9.1), in the same window.
    path(
        "patients/<uuid:patient_id>/representatives/invite/",
        staff_views.representative_invite,
        name="representative_invite",
    ),
    path(
        "patients/<uuid:patient_id>/representatives/<uuid:representative_id>/",
        staff_views.representative_troubleshooter,
        name="representative_troubleshooter",
    ),
    path(
        "patients/<uuid:patient_id>/representatives/<uuid:representative_id>/<str:action>/",
        staff_views.representative_action,
        name="representative_action",
    ),
]
