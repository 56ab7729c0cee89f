from django_tasks import task

from portico.notifications import services


@task()
def deliver_email(email_id: int) -> str:
    """Deliver one stored email. Safe to run twice: a sent email is not sent again."""
    return services.email_deliver(email_id=email_id)
