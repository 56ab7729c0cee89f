"""`portico check --deploy` warnings about the accounts' settings."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def field_encryption_keys_check(app_configs, **kwargs):
    """Without its own keys, the encryption of authenticator secrets hangs on SECRET_KEY."""
    if settings.PORTICO_FIELD_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "PORTICO_FIELD_ENCRYPTION_KEYS is not set: authenticator-app secrets are encrypted "
            "with a key derived from SECRET_KEY, so changing SECRET_KEY makes them unreadable.",
            hint="Set PORTICO_FIELD_ENCRYPTION_KEYS to a new key followed by the current "
            "SECRET_KEY, run `portico rotate_encryption_keys`, then remove SECRET_KEY from the "
            "list (README: Encryption keys).",
            id="portico.W001",
        )
    ]
