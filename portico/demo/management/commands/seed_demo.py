from django.core.management.base import BaseCommand

from portico.demo import seed as demo


class Command(BaseCommand):
    help = "Create the demo practice, staff and patients (once; does nothing if they exist)."

    def handle(self, *args, **options):
        if demo.demo_exists():
            self.stdout.write("Demo data already present.")
            return
        demo.seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data created."))
