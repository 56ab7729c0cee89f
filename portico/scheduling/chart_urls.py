"""A chart's appointments, joined to the "charts" namespace (see portico/urls.py)."""

from django.urls import path

from portico.scheduling import chart_views, reminder_views

urlpatterns = [
    path("patients/<uuid:patient_id>/appointments/", chart_views.appointments, name="appointments"),
    path(
        "patients/<uuid:patient_id>/appointments/reminders/",
        reminder_views.chart_reminders,
        name="appointment_reminders",
    ),
]
