from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portico.practices.models import Role
from portico.practices.services import practice_create, staff_add


class Command(BaseCommand):
    help = "Add a practice to this deployment, with its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The practice's name, as patients know it.")
        parser.add_argument("--slug", required=True, help="Short public id, e.g. riverside.")
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--phone", default="")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", default="")

    def handle(self, *args, name, slug, time_zone, phone, admin_email, admin_name, **options):
        try:
            with transaction.atomic():  # the practice and its administrator, or neither
                practice = practice_create(name=name, slug=slug, time_zone=time_zone, phone=phone)
                _membership, password = staff_add(
                    None,
                    practice=practice,
                    email=admin_email,
                    full_name=admin_name,
                    role=Role.ADMINISTRATOR,
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created {practice.name} ({practice.slug}).")
        if password:
            self.stdout.write(f"Administrator {admin_email}: initial password {password}")
        else:
            self.stdout.write(f"{admin_email} already had an account and is now administrator.")
