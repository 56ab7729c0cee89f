from django.urls import path

from portico.outreach import views

app_name = "outreach"
urlpatterns = [
    path("bulk-invite/", views.bulk_invite, name="bulk_invite"),
    path("bulk-invite/<uuid:run_id>/", views.run_detail, name="run"),
    path("bulk-invite/<uuid:run_id>/status.json", views.run_status, name="run_status"),
    path("bulk-invite/<uuid:run_id>/cancel/", views.run_cancel, name="run_cancel"),
]
