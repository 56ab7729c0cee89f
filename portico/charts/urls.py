from django.urls import path

from portico.charts import views
from portico.portal import staff_views

app_name = "charts"
urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:patient_id>/", views.chart, name="chart"),
    path("patients/<uuid:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path(
        "patients/<uuid:patient_id>/portal/<str:action>/",
        staff_views.portal_action,
        name="portal_action",
    ),
]
