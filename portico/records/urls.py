from django.urls import path

from portico.records import appointment_views, views

app_name = "records"
urlpatterns = [
    path("portal/records/<uuid:access_id>/", views.record_home, name="record"),
    path(
        "portal/records/<uuid:access_id>/download/",
        views.download_document,
        name="download",
    ),
    path(
        "portal/records/<uuid:access_id>/download/fhir.json",
        views.download_fhir,
        name="download_fhir",
    ),
    path(
        "portal/records/<uuid:access_id>/appointments/<uuid:appointment_id>/calendar.ics",
        appointment_views.appointment_calendar,
        name="appointment_calendar",
    ),
    path("portal/records/<uuid:access_id>/send/", views.send, name="send"),
    path(
        "portal/records/<uuid:access_id>/links/<uuid:link_id>/revoke/",
        views.revoke_link,
        name="revoke_link",
    ),
    path("portal/records/<uuid:access_id>/access-log/", views.access_log_view, name="access_log"),
    path("shared/<str:token>/", views.shared, name="shared"),
    path("shared/<str:token>/fhir.json", views.shared_fhir, name="shared_fhir"),
]
