from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "portico.outreach"
    label = "outreach"
    verbose_name = "Outreach (bulk invitations)"
