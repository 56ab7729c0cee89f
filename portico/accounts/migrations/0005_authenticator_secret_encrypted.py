# Authenticator secrets move from a clear-text column to an encrypted one (portico.core.crypto).
# Run it with the deployment's PORTICO_FIELD_ENCRYPTION_KEYS (or SECRET_KEY) already set: the
# secrets are encrypted under the newest key. Reversible: going back decrypts them into the old
# column (and stops, naming no secret, if one cannot be decrypted with the listed keys).

from django.db import migrations, models

from portico.core import crypto


def encrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("accounts", "Authenticator")
    for row in Authenticator.objects.only("pk", "secret").iterator():
        row.secret_encrypted = crypto.encrypt(row.secret)
        row.save(update_fields=["secret_encrypted"])


def decrypt_secrets(apps, schema_editor):
    Authenticator = apps.get_model("accounts", "Authenticator")
    for row in Authenticator.objects.only("pk", "secret_encrypted").iterator():
        try:
            row.secret = crypto.decrypt(row.secret_encrypted)
        except crypto.DecryptionError as exc:
            raise RuntimeError(
                f"Authenticator {row.pk}: its secret cannot be decrypted with the listed keys; "
                "set PORTICO_FIELD_ENCRYPTION_KEYS to include the key it was encrypted under."
            ) from exc
        row.save(update_fields=["secret"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_second_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="authenticator",
            name="secret_encrypted",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
        # A default, so that going back can re-add the column to a table that has rows.
        migrations.AlterField(
            model_name="authenticator",
            name="secret",
            field=models.CharField(max_length=64, default=""),
        ),
        migrations.RemoveField(
            model_name="authenticator",
            name="secret",
        ),
    ]
