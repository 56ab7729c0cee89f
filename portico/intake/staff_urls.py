"""The intake pages of the staff side (see intake/urls.py): the Intake list of a day, a
form beside the chart (review into the chart, mark processed), its printable view, and
sending, resending and withdrawing forms (from the list, the appointment and the chart)."""

from django.urls import path

from portico.intake import staff_views

urlpatterns: list = [
    path("ehr/intake/", staff_views.intake_list, name="list"),
    path("ehr/intake/send/<uuid:appointment_id>/", staff_views.send, name="send"),
    path("ehr/intake/forms/<uuid:form_id>/", staff_views.form_page, name="form"),
    path("ehr/intake/forms/<uuid:form_id>/print/", staff_views.form_print, name="form_print"),
    path("ehr/intake/forms/<uuid:form_id>/resend/", staff_views.resend, name="resend"),
    path("ehr/intake/forms/<uuid:form_id>/withdraw/", staff_views.withdraw, name="withdraw"),
    path("ehr/intake/forms/<uuid:form_id>/review/", staff_views.review_item, name="review_item"),
    path("ehr/intake/forms/<uuid:form_id>/process/", staff_views.process, name="process"),
    path("ehr/patients/<uuid:patient_id>/intake/", staff_views.chart_forms, name="chart_forms"),
]
