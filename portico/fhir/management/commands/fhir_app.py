"""`portico fhir_app`: the deployment's operator registers, lists and removes patient apps
(SMART on FHIR clients that every patient of the deployment may connect).

    portico fhir_app register --name "Health Tracker" --redirect-uri https://app.example/cb
    portico fhir_app register --name "Clinic Sync" --redirect-uri https://sync.example/cb \
        --confidential
    portico fhir_app list
    portico fhir_app remove CLIENT_ID
"""

from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import Application

from portico.fhir import selectors, services


class Command(BaseCommand):
    help = "Register, list and remove the patient apps (SMART on FHIR clients) of the deployment."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        register = actions.add_parser(
            "register",
            help="Register an app every patient may connect; prints its client_id (and, for a "
            "confidential client, its secret, once: only its hash is kept).",
        )
        register.add_argument("--name", required=True, help="The app's name, as patients see it.")
        register.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="append",
            required=True,
            metavar="URI",
            help="A redirect URI, matched exactly (https; http only on 127.0.0.1 or localhost, "
            "or anywhere when DEBUG or PORTICO_DEMO is on). Repeat for several.",
        )
        register.add_argument(
            "--confidential",
            action="store_true",
            help="A client with its own server, which authenticates with a secret (default: a "
            "public client, such as a phone or browser app, with PKCE and no secret).",
        )
        actions.add_parser("list", help="List every registered app and who registered it.")
        remove = actions.add_parser(
            "remove", help="Remove an app; every patient's connection to it ends at once."
        )
        remove.add_argument("client_id", help="The app's client_id (see `fhir_app list`).")

    def handle(self, *args, action, **options):
        if action == "register":
            self._register(options["name"], options["redirect_uris"], options["confidential"])
        elif action == "list":
            self._list()
        else:
            self._remove(options["client_id"])

    def _register(self, name: str, redirect_uris: list[str], confidential: bool) -> None:
        try:
            registered = services.register_app(
                None,
                name=name,
                redirect_uris=" ".join(redirect_uris),
                confidential=confidential,
            )
        except services.AppInputError as exc:
            raise CommandError(
                " ".join(message for messages in exc.errors.values() for message in messages)
            ) from exc
        application = registered.application
        self.stdout.write(f"Registered “{application.name}”.")
        self.stdout.write(f"client_id: {application.client_id}")
        if registered.client_secret is not None:
            self.stdout.write(f"client_secret: {registered.client_secret}")
            self.stdout.write("Copy the secret now: it is not shown again (only its hash is kept).")

    def _list(self) -> None:
        apps = selectors.all_apps()
        if not apps:
            self.stdout.write("No app is registered.")
            return
        for application in apps:
            registration = getattr(application, "registration", None)
            practice = registration.practice if registration is not None else None
            by = f"practice {practice.slug}" if practice is not None else "operator"
            self.stdout.write(
                "\t".join(
                    [
                        application.client_id,
                        application.client_type,
                        by,
                        application.name,
                        application.redirect_uris,
                    ]
                )
            )

    def _remove(self, client_id: str) -> None:
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            raise CommandError(f"No app has the client_id {client_id!r}; see `fhir_app list`.")
        ended = services.remove_app(None, application)
        self.stdout.write(
            f"Removed “{application.name}”; {ended} patient connection(s) to it ended."
        )
