from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "portico.messaging"
    label = "messaging"
    verbose_name = "Secure messaging"

    def ready(self) -> None:
        from portico.charts.signals import record_shared
        from portico.messaging import record_updates

        record_shared.connect(record_updates.record_shared, dispatch_uid="messaging.record_updates")
