from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "portico.fhir"
    label = "fhir"
    verbose_name = "FHIR patient-access API"
