"""The intake pages of the patient side (see intake/urls.py): the forms of a record in the
portal, and the emailed check-in link for a patient without portal access (only opaque ids and
the link's token in the addresses)."""

from django.urls import path

from portico.intake import patient_views

PORTAL = "portal/records/<uuid:access_id>/check-in/"
PORTAL_FORM = PORTAL + "<uuid:form_id>/"
LINK_FORM = "check-in/form/<uuid:form_id>/"

urlpatterns: list = [
    path(PORTAL, patient_views.patient_forms, name="patient_forms"),
    path(PORTAL_FORM, patient_views.patient_form, name="patient_form"),
    path(PORTAL_FORM + "review/", patient_views.patient_form_review, name="patient_form_review"),
    path(PORTAL_FORM + "submit/", patient_views.patient_form_submit, name="patient_form_submit"),
    path(LINK_FORM, patient_views.link_form, name="link_form"),
    path(LINK_FORM + "review/", patient_views.link_form_review, name="link_form_review"),
    path(LINK_FORM + "submit/", patient_views.link_form_submit, name="link_form_submit"),
    path("check-in/submitted/", patient_views.link_submitted, name="link_submitted"),
    path("check-in/<str:token>/", patient_views.link, name="link"),
]
