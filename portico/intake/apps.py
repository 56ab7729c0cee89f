from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "portico.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from portico.intake import auto_send
        from portico.scheduling.signals import appointment_booked

        appointment_booked.connect(auto_send.appointment_booked, dispatch_uid="intake.auto_send")
