"""The intake pages of the settings side (see intake/urls.py): EHR Settings > Intake."""

from django.urls import path

from portico.intake import settings_views

SETTINGS = "ehr/settings/intake/"
TEMPLATE = SETTINGS + "templates/<uuid:template_id>/"

urlpatterns: list = [
    # The templates and the form each visit type sends by itself.
    path(SETTINGS, settings_views.settings_home, name="settings"),
    # One template's builder (POST renames it), its preview, and its buttons.
    path(TEMPLATE, settings_views.template_page, name="settings_template"),
    path(TEMPLATE + "preview/", settings_views.template_preview, name="settings_preview"),
    path(TEMPLATE + "change/", settings_views.template_change, name="settings_change"),
    path(TEMPLATE + "active/", settings_views.template_active, name="settings_active"),
    # A section's and a question's page: ?key= names the one edited; without it, a new section
    # (at the end), or a new question at the end of section ?section= (of type ?type=). Keys
    # are the definition's own (letters, digits, underscores), never health information.
    path(TEMPLATE + "section/", settings_views.section_edit, name="settings_section"),
    path(TEMPLATE + "question/", settings_views.question_edit, name="settings_question"),
]
