from django.apps import AppConfig


class ChartsConfig(AppConfig):
    name = "portico.charts"
    label = "charts"

    def ready(self) -> None:
        from portico.charts import record_version

        record_version.connect()
