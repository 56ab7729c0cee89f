"""`portico rotate_encryption_keys`: re-encrypt the stored authenticator secrets with the newest
key of PORTICO_FIELD_ENCRYPTION_KEYS (README: "Encryption keys"). Safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from portico.accounts import mfa


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored authenticator secret with the first (newest) key of "
        "PORTICO_FIELD_ENCRYPTION_KEYS. Run it after putting a new key first; once it reports "
        "nothing unreadable, the older keys may be removed. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--forget-unreadable",
            action="store_true",
            help="Remove the authenticator apps (and recovery codes) whose secret no listed key "
            "decrypts: staff set up a new app at their next sign-in, after a code emailed to "
            "them; patients go back to email codes.",
        )

    def handle(self, *args, forget_unreadable, **options):
        done = mfa.authenticator_secrets_reencrypt(forget_unreadable=forget_unreadable)
        self.stdout.write(
            f"Authenticator secrets: {done.reencrypted} re-encrypted with the newest key, "
            f"{done.current} already were."
        )
        if not done.unreadable:
            return
        accounts = "\n".join(f"  account {public_id}" for public_id in done.unreadable)
        if done.forgotten:
            self.stdout.write(
                f"{len(done.unreadable)} authenticator app(s) could not be decrypted and were "
                f"removed; these accounts set up an app again at their next sign-in:\n{accounts}"
            )
            return
        raise CommandError(
            f"{len(done.unreadable)} authenticator secret(s) cannot be decrypted with any listed "
            "key and were left as they are. Add the key they were encrypted under to "
            "PORTICO_FIELD_ENCRYPTION_KEYS and run this again, or run it with "
            f"--forget-unreadable so that these accounts set up their app again:\n{accounts}"
        )
