from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portico.notifications"
    label = "notifications"
