from django.apps import AppConfig


class ChartsConfig(AppConfig):
    name = "portico.charts"
    label = "charts"
