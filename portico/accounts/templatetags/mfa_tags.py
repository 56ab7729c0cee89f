from django import template

from portico.accounts import mfa
from portico.accounts.models import Authenticator

register = template.Library()


@register.inclusion_tag("accounts/includes/second_factor_profile.html", takes_context=True)
def second_factor_section(context):
    """The profile's second-factor section: app or email codes, recovery codes, devices."""
    user = context["request"].user
    return {
        "authenticator": Authenticator.objects.filter(user=user).first(),
        "recovery_codes_left": mfa.recovery_codes_left(user),
        "devices": list(mfa.devices_live(user)),
        "is_staff": context.get("current_membership") is not None,
        "csrf_token": context.get("csrf_token"),
    }
