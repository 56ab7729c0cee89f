"""The chart's timeline, joined to the "charts" namespace (see portico/urls.py)."""

from django.urls import path

from portico.messaging import chart_views

urlpatterns = [
    path("patients/<uuid:patient_id>/timeline/", chart_views.timeline, name="timeline"),
]
