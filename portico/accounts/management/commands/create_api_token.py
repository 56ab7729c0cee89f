"""`portico create_api_token EMAIL --name NAME`: a staff API token for an integration."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from portico.accounts.models import User
from portico.accounts.services import api_token_create
from portico.practices import selectors as practice_selectors


class Command(BaseCommand):
    help = (
        "Create a staff API token and print it once (only its hash is stored). "
        "Use it as `Authorization: Bearer <token>` on /api/v1/."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The staff member the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--practice", help="Practice slug, if the user works at several.")

    def handle(self, *args, email, name, practice, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email}.")
        if not user.is_active:
            raise CommandError(f"The user {user.email} is deactivated.")
        memberships = practice_selectors.active_memberships(user)
        if practice:
            memberships = memberships.filter(practice__slug=practice)
        memberships = list(memberships)
        if not memberships:
            if practice:
                raise CommandError(f"{user.email} is not active staff at the practice {practice}.")
            raise CommandError(
                f"{user.email} is not active staff at any practice; "
                "API tokens are for practice staff only."
            )
        if len(memberships) > 1:
            slugs = ", ".join(sorted(m.practice.slug for m in memberships))
            raise CommandError(f"The user works at several practices; pass --practice ({slugs}).")
        try:
            _token, key = api_token_create(user, practice=memberships[0].practice, name=name)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("; ".join(messages)) from exc
        # The token alone on stdout, so scripts can capture it; it cannot be shown again.
        self.stdout.write(key)
