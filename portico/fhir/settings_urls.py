"""EHR Settings > Patient apps, mounted at ehr/settings/patient-apps/ (an app is named by its
OAuth client id, a random public identifier)."""

from django.urls import path

from portico.fhir import settings_views

app_name = "fhir_settings"

urlpatterns = [
    path("", settings_views.patient_apps, name="apps"),
    path("<str:client_id>/remove/", settings_views.patient_app_remove, name="remove"),
]
