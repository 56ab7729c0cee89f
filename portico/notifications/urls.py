from django.urls import path

from portico.notifications import views

app_name = "notifications"

urlpatterns = [
    path("email/bounces", views.bounces, name="bounces"),
]
