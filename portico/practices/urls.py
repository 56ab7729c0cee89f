from django.urls import path

from portico.practices import views

app_name = "practices"
urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("patient-communications/phr-invite/", views.phr_invite, name="phr_invite"),
    path("patient-communications/phr-invite/auto-invite/", views.auto_invite, name="auto_invite"),
    path(
        "patient-communications/phr-invite/representatives/",
        views.representative_ages,
        name="representative_ages",
    ),
    path("patient-communications/messaging/", views.messaging, name="messaging"),
    path("patient-communications/appointment-reminders/", views.reminders, name="reminders"),
    path("users/", views.users, name="users"),
    path("users/<uuid:user_id>/remove/", views.user_remove, name="user_remove"),
    path("switch-practice/", views.switch_practice, name="switch_practice"),
]
