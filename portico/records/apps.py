from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "portico.records"
    label = "records"
    verbose_name = "Patient health record"
