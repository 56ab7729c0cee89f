from django.urls import path

from portico.portal import patient_views

app_name = "portal"
urlpatterns = [
    path("", patient_views.home, name="home"),
    path("register/<str:token>/", patient_views.register, name="register"),
    path("register/<str:token>/account/", patient_views.register_account, name="register_account"),
    path("register/<str:token>/text/", patient_views.register_text, name="register_text"),
    path(
        "register/<str:token>/text/code/",
        patient_views.register_text_code,
        name="register_text_code",
    ),
]
