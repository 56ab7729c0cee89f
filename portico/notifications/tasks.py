from django_tasks import task

from portico.notifications import services


@task()
def deliver_email(email_id: int) -> str:
    """Deliver one stored email. Safe to run twice: a sent email is not sent again."""
    return services.email_deliver(email_id=email_id)


@task()
def drain_outbox() -> int:
    """Send every queued email (after a bulk insert of many). Safe to run twice or side by
    side: each email is claimed before it is sent."""
    from portico.notifications.models import EmailState, OutboundEmail

    sent = 0
    queued = OutboundEmail.objects.filter(state=EmailState.QUEUED).order_by("pk")
    for email_id in queued.values_list("pk", flat=True).iterator():
        sent += services.email_deliver(email_id=email_id) == "sent"
    return sent
