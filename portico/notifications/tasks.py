from django.conf import settings
from django.utils import timezone
from django_tasks import task

from portico.notifications import services


@task()
def drain_outbox() -> int:
    """Send what is due in the outbox. Safe to run any number of times, side by side: each
    message is claimed by one sender. Works for a bounded time so the worker stays responsive to
    shutdown, then asks for another drain if more is due (or for one when a retry is due)."""
    handled = services.outbox_drain(
        max_seconds=getattr(settings, "PORTICO_EMAIL_DRAIN_SECONDS", 20)
    )
    upcoming = services.next_due_at()
    if upcoming is None:
        return handled
    if upcoming > timezone.now():
        services.drain_request(upcoming)
    elif handled:
        # Time ran out with more to send (a due message no drain could take is left to the
        # periodic job rather than spinning on it).
        services.drain_request()
    return handled


@task()
def deliver_email(email_id: int) -> str:
    """Deliver one stored email (tasks queued before the outbox drain). Safe to run twice:
    a sent email is not sent again."""
    return services.email_deliver(email_id=email_id)
