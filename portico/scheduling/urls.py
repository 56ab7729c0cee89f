"""The appointment book's pages: the practice's schedule under /ehr/schedule/, and the public
one-click unsubscribe of reminder emails."""

from django.urls import path

from portico.scheduling import reminder_views, settings_views, staff_views

app_name = "scheduling"

STAFF = "ehr/schedule/"
APPOINTMENT = STAFF + "appointments/<uuid:appointment_id>/"
SETTINGS = STAFF + "settings/"

urlpatterns = [
    # The book: day and week views (?view=day|week&date=YYYY-MM-DD&provider=<user uuid>).
    path(STAFF, staff_views.schedule, name="schedule"),
    path(STAFF + "book/", staff_views.book, name="book"),
    path(APPOINTMENT, staff_views.appointment, name="appointment"),
    path(APPOINTMENT + "move/", staff_views.move, name="move"),
    path(APPOINTMENT + "cancel/", staff_views.cancel, name="cancel"),
    path(APPOINTMENT + "status/", staff_views.mark, name="mark"),
    # Schedule settings: providers' hours, visit types, locations, blocked times.
    path(SETTINGS, settings_views.settings_home, name="settings"),
    path(SETTINGS + "providers/<uuid:user_id>/hours/", settings_views.hours, name="hours"),
    path(SETTINGS + "visit-types/new/", settings_views.visit_type_edit, name="visit_type_new"),
    path(
        SETTINGS + "visit-types/<uuid:visit_type_id>/",
        settings_views.visit_type_edit,
        name="visit_type_edit",
    ),
    path(SETTINGS + "locations/new/", settings_views.location_edit, name="location_new"),
    path(
        SETTINGS + "locations/<uuid:location_id>/",
        settings_views.location_edit,
        name="location_edit",
    ),
    path(SETTINGS + "blocked/", settings_views.blocked, name="blocked"),
    path(
        SETTINGS + "blocked/<uuid:blocked_id>/remove/",
        settings_views.blocked_remove,
        name="blocked_remove",
    ),
    # Reminder emails' unsubscribe link (RFC 8058: GET shows a confirm button, POST acts).
    path("reminders/unsubscribe/<str:token>/", reminder_views.unsubscribe, name="unsubscribe"),
]
