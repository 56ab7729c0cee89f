"""Intake's pages (SPEC §10): EHR Settings > Intake (templates, automatic forms), the staff's
Intake list and form review, and the patient's check-in pages (in the portal, or through the
emailed link for a patient without portal access)."""

from portico.intake import patient_urls, settings_urls, staff_urls

app_name = "intake"

urlpatterns = settings_urls.urlpatterns + staff_urls.urlpatterns + patient_urls.urlpatterns
