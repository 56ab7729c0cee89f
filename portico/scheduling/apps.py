from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "portico.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
