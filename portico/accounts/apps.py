from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portico.accounts"
    label = "accounts"

    def ready(self):
        from portico.accounts import checks  # noqa: F401 (registers the system checks)
