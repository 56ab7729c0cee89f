from django.conf import settings
from django.utils import translation
from django_tasks import task

from portico.portal import registration


@task()
def text_security_code(code_id: int, language: str = "") -> str:
    """Text one requested security code, in the language of the page that asked for it. Safe
    to run twice: a code is texted at most once."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return registration.security_code_deliver(code_id=code_id)
