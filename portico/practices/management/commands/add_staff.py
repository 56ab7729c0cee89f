from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portico.practices.models import Practice, ProviderCredential, Role
from portico.practices.services import staff_add


class Command(BaseCommand):
    help = "Give a person a role at a practice, creating their account if needed."

    def add_arguments(self, parser):
        parser.add_argument("practice", help="The practice's slug.")
        parser.add_argument("email")
        parser.add_argument("--name", default="")
        parser.add_argument("--role", choices=Role.values, default=Role.STAFF)
        parser.add_argument(
            "--credential", choices=[c for c in ProviderCredential.values if c], default=""
        )

    def handle(self, *args, practice, email, name, role, credential, **options):
        found = Practice.objects.filter(slug=practice).first()
        if found is None:
            raise CommandError(f"No practice with the slug {practice!r}.")
        try:
            _membership, password = staff_add(
                None, practice=found, email=email, full_name=name, role=role, credential=credential
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{email} is now {Role(role).label.lower()} at {found.name}.")
        if password:
            self.stdout.write(f"Initial password: {password}")
