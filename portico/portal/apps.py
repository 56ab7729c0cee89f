from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portico.portal"
    label = "portal"

    def ready(self) -> None:
        from portico.charts.signals import encounter_signed
        from portico.portal import auto_invite

        encounter_signed.connect(auto_invite.encounter_signed, dispatch_uid="portal.auto_invite")
