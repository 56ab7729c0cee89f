from django.urls import path

from portico.messaging import patient_views, staff_views

app_name = "messaging"

PATIENT = "portal/records/<uuid:access_id>/messages/"
THREAD = "<uuid:thread_id>/"
STAFF = "ehr/messages/"

urlpatterns = [
    # The patient's side, inside one of their records.
    path(PATIENT, patient_views.thread_list, name="patient_list"),
    path(PATIENT + "new/", patient_views.thread_new, name="patient_new"),
    path(PATIENT + "renewal/", patient_views.renewal_new, name="patient_renewal"),
    path(PATIENT + "email-settings/", patient_views.email_settings, name="patient_settings"),
    path(PATIENT + THREAD, patient_views.thread, name="patient_thread"),
    path(
        PATIENT + THREAD + "files/<uuid:attachment_id>/",
        patient_views.attachment,
        name="patient_attachment",
    ),
    # The practice's side.
    path(STAFF, staff_views.inbox, name="inbox"),
    path(STAFF + THREAD, staff_views.thread, name="staff_thread"),
    path(STAFF + THREAD + "reply/", staff_views.reply, name="staff_reply"),
    path(STAFF + THREAD + "status/", staff_views.status, name="staff_status"),
    path(STAFF + THREAD + "assign/", staff_views.assign, name="staff_assign"),
    path(STAFF + THREAD + "file/", staff_views.file_to_chart, name="staff_file"),
    path(STAFF + THREAD + "renewal/", staff_views.renewal_answer, name="staff_renewal"),
    path(
        STAFF + THREAD + "files/<uuid:attachment_id>/",
        staff_views.attachment,
        name="staff_attachment",
    ),
]
