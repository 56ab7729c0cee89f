"""The patient's Connected apps pages, mounted at portal/apps/ (only opaque ids in the paths)."""

from django.urls import path

from portico.fhir import patient_views

app_name = "fhir_portal"

urlpatterns = [
    path("", patient_views.connected_apps, name="connected_apps"),
    path("<uuid:connection_id>/disconnect/", patient_views.disconnect, name="disconnect"),
]
