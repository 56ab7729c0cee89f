from django_tasks import task

from portico.portal import registration


@task()
def text_security_code(code_id: int) -> str:
    """Text one requested security code. Safe to run twice: a code is texted at most once."""
    return registration.security_code_deliver(code_id=code_id)
