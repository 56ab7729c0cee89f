"""The FHIR R4 server (`/fhir/R4/`): SMART discovery, the CapabilityStatement, and read, search
and `Patient/$everything` of the types in portico.fhir.server.resources.TYPES (the `fhirtype`
converter matches exactly those, so the routes and the CapabilityStatement come from one table).
Anything else under the base answers a 404 OperationOutcome."""

import re

from django.urls import path, re_path, register_converter

from portico.fhir.authorize_views import smart_configuration
from portico.fhir.server import views
from portico.fhir.server.resources import TYPES


class ResourceTypeConverter:
    regex = "|".join(re.escape(name) for name in TYPES)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhirtype")

app_name = "fhir"

urlpatterns = [
    path(".well-known/smart-configuration", smart_configuration, name="smart_configuration"),
    path("metadata", views.metadata, name="metadata"),
    path("Patient/$everything", views.everything, name="everything"),
    path("Patient/<str:resource_id>/$everything", views.everything, name="everything_instance"),
    path("<fhirtype:resource_type>/_search", views.search_post, name="search_post"),
    path("<fhirtype:resource_type>/<str:resource_id>", views.read, name="read"),
    path("<fhirtype:resource_type>", views.search_type, name="search"),
    re_path(r"^[\s\S]*$", views.unknown, name="unknown"),  # any path, new lines too
]
