from django.conf import settings


def portico(request):
    return {
        "DEMO": settings.DEMO,
        "MAILBOX_ENABLED": settings.PORTICO_MAILBOX_ENABLED,
        "current_practice": getattr(request, "practice", None),
        "current_membership": getattr(request, "membership", None),
    }
