"""Online profiles and appointment requests: the public pages (search, profiles, booking pages,
the embeddable booking page, sitemap and robots.txt), the staff's Appointment Requests and
online-profile settings, and the patient's Appointments tab in the portal."""

from django.urls import path, re_path

from portico.booking import patient_views, profile_views, public_views, request_views

app_name = "booking"

# /doctor/<first>-<last>[-<credential>]-<5 digits>: the number finds the profile; the name part
# follows renames (an old one redirects).
PROFILE = r"^doctor/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*-\d{5})"
REQUESTS = "ehr/schedule/requests/"
REQUEST = REQUESTS + "<uuid:request_id>/"
PROFILE_SETTINGS = "ehr/settings/users/<uuid:user_id>/online-profile/"
PATIENT = "portal/records/<uuid:access_id>/appointments/"
PATIENT_APPOINTMENT = PATIENT + "<uuid:appointment_id>/"

urlpatterns = [
    # Public: no sign-in, no patient data.
    path("doctors/", public_views.search, name="search"),
    re_path(PROFILE + "$", public_views.profile, name="profile"),
    re_path(PROFILE + "/book$", public_views.book, name="book"),
    path("external/appointment/<uuid:booking_id>", public_views.embed, name="embed"),
    path("sitemap.xml", public_views.sitemap, name="sitemap"),
    path("robots.txt", public_views.robots, name="robots"),
    # Staff: Schedule > Appointment Requests.
    path(REQUESTS, request_views.request_list, name="requests"),
    path(REQUEST, request_views.request_detail, name="request"),
    path(REQUEST + "approve/", request_views.request_approve, name="request_approve"),
    path(REQUEST + "deny/", request_views.request_deny, name="request_deny"),
    path(REQUEST + "propose/", request_views.request_propose, name="request_propose"),
    path(
        "ehr/schedule/appointments/<uuid:appointment_id>/confirm/",
        request_views.appointment_confirm,
        name="appointment_confirm",
    ),
    # Staff: EHR Settings > Users > a provider > Online profile and appointment booking.
    path(PROFILE_SETTINGS, profile_views.profile_settings, name="profile_settings"),
    path(PROFILE_SETTINGS + "status/", profile_views.profile_status, name="profile_status"),
    path(PROFILE_SETTINGS + "attest/", profile_views.npi_attest, name="npi_attest"),
    path("ehr/settings/online-booking/", profile_views.website_settings, name="website_settings"),
    # The patient's Appointments tab in the portal.
    path(PATIENT, patient_views.appointments, name="patient_appointments"),
    path(PATIENT_APPOINTMENT + "reschedule/", patient_views.reschedule, name="patient_reschedule"),
    path(PATIENT_APPOINTMENT + "cancel/", patient_views.cancel, name="patient_cancel"),
    path(PATIENT_APPOINTMENT + "accept/", patient_views.accept, name="patient_accept"),
    path(
        PATIENT + "requests/<uuid:request_id>/cancel/",
        patient_views.withdraw,
        name="patient_withdraw",
    ),
]
