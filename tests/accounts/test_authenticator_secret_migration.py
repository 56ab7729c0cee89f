"""Migration accounts 0005 encrypts the authenticator secrets already stored in clear, and going
back decrypts them into the old column."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portico.core import crypto

BEFORE = [("accounts", "0004_second_factor")]
AFTER = [("accounts", "0005_authenticator_secret_encrypted")]
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_stored_secrets_and_going_back_decrypts_them():
    try:
        old_apps = migrate(BEFORE)
        user = old_apps.get_model("accounts", "User").objects.create(email="s@example.test")
        old_apps.get_model("accounts", "Authenticator").objects.create(
            user=user, secret=SECRET, confirmed_at=timezone.now()
        )

        new_apps = migrate(AFTER)
        row = new_apps.get_model("accounts", "Authenticator").objects.get(user_id=user.pk)
        assert SECRET not in row.secret_encrypted
        assert crypto.decrypt(row.secret_encrypted) == SECRET

        old_apps = migrate(BEFORE)
        assert old_apps.get_model("accounts", "Authenticator").objects.get().secret == SECRET
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
