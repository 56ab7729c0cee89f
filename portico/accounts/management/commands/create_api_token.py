from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portico.accounts.models import User
from portico.accounts.services import api_token_create
from portico.practices import permissions


class Command(BaseCommand):
    help = "Create a staff API token and print it once."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The staff member the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--practice", help="Practice slug, if the user works at several.")

    def handle(self, *args, email, name, practice, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email}.")
        memberships = permissions.active_memberships(user)
        if practice:
            memberships = memberships.filter(practice__slug=practice)
        memberships = list(memberships)
        if not memberships:
            raise CommandError("That user is not active staff at such a practice.")
        if len(memberships) > 1:
            slugs = ", ".join(m.practice.slug for m in memberships)
            raise CommandError(f"The user works at several practices; pass --practice ({slugs}).")
        try:
            _token, key = api_token_create(user, practice=memberships[0].practice, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(key)
