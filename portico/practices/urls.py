from django.urls import path

from portico.practices import views

app_name = "practices"
urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("patient-communications/phr-invite/", views.phr_invite, name="phr_invite"),
    path("switch-practice/", views.switch_practice, name="switch_practice"),
]
