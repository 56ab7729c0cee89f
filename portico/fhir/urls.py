"""The FHIR R4 server (`/fhir/R4/`): discovery here; the server's routes in server_urls."""

from django.urls import path

from portico.fhir.authorize_views import smart_configuration

app_name = "fhir"

urlpatterns = [
    path(".well-known/smart-configuration", smart_configuration, name="smart_configuration"),
]
