from django.urls import path

from portico.portal import patient_views

app_name = "portal"

# The patient's own record: who can see it (SPEC §9.4).
REPRESENTATIVES = "records/<uuid:access_id>/representatives/"

urlpatterns = [
    path("", patient_views.home, name="home"),
    path("switch/", patient_views.switch, name="switch"),
    path(REPRESENTATIVES, patient_views.representatives, name="representatives"),
    path(
        REPRESENTATIVES + "<uuid:representative_id>/end/",
        patient_views.representative_end,
        name="representative_end",
    ),
    path(
        REPRESENTATIVES + "<uuid:representative_id>/renew/",
        patient_views.representative_renew,
        name="representative_renew",
    ),
    path("register/<str:token>/", patient_views.register, name="register"),
    path("register/<str:token>/account/", patient_views.register_account, name="register_account"),
    path("register/<str:token>/text/", patient_views.register_text, name="register_text"),
    path(
        "register/<str:token>/text/code/",
        patient_views.register_text_code,
        name="register_text_code",
    ),
]
