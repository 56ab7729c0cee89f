"""Message attachments are stored where the environment says (README "Message attachments"):
a private local folder by default, S3-compatible storage with ATTACHMENTS_STORAGE=s3 (the
optional extra `portico[s3]`, django-storages)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_PROBE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "portico.settings"
import django
django.setup()
from django.core.files.storage import storages
storage = storages["attachments"]
out = {"class": type(storage).__module__ + "." + type(storage).__name__}
for name in ("location", "base_location", "file_permissions_mode", "directory_permissions_mode",
             "bucket_name", "endpoint_url", "region_name", "access_key", "secret_key",
             "default_acl", "file_overwrite", "querystring_auth"):
    if hasattr(storage, name):
        value = getattr(storage, name)
        out[name] = value if isinstance(value, (str, int, bool, type(None))) else str(value)
print(json.dumps(out))
"""


def _storage_in_fresh_process(**env) -> dict:
    """Build storages["attachments"] in a new interpreter with exactly this environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "ATTACHMENTS_", "S3_", "AWS_", "DJANGO_", "DEBUG"))
    }
    clean.update({"DEBUG": "1", **env})
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_attachments_go_to_a_private_local_folder_by_default(tmp_path):
    storage = _storage_in_fresh_process(PORTICO_VAR_DIR=str(tmp_path))
    assert storage["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert storage["location"] == str(tmp_path / "attachments")
    assert storage["file_permissions_mode"] == 0o600
    assert storage["directory_permissions_mode"] == 0o700


def test_attachments_dir_names_the_folder(tmp_path):
    folder = tmp_path / "files"
    storage = _storage_in_fresh_process(ATTACHMENTS_DIR=str(folder))
    assert storage["location"] == str(folder)


def test_s3_storage_is_built_from_the_environment():
    pytest.importorskip("storages", reason="the optional extra portico[s3] is not installed")
    pytest.importorskip("boto3", reason="the optional extra portico[s3] is not installed")

    storage = _storage_in_fresh_process(
        ATTACHMENTS_STORAGE="s3",
        S3_BUCKET="portico-attachments",
        S3_ENDPOINT_URL="https://minio.example.test",
        S3_REGION="us-east-2",
        S3_ACCESS_KEY_ID="AKIAEXAMPLE",
        S3_SECRET_ACCESS_KEY="not-a-real-secret",
        S3_PREFIX="clinic-a",
    )

    assert storage["class"] == "storages.backends.s3.S3Storage"
    assert storage["bucket_name"] == "portico-attachments"
    assert storage["endpoint_url"] == "https://minio.example.test"
    assert storage["region_name"] == "us-east-2"
    assert storage["access_key"] == "AKIAEXAMPLE"
    assert storage["secret_key"] == "not-a-real-secret"
    assert storage["location"] == "clinic-a"
    assert storage["default_acl"] == "private"
    assert storage["file_overwrite"] is False


def test_s3_storage_leaves_what_is_not_set_to_the_sdk():
    pytest.importorskip("storages", reason="the optional extra portico[s3] is not installed")
    pytest.importorskip("boto3", reason="the optional extra portico[s3] is not installed")

    storage = _storage_in_fresh_process(ATTACHMENTS_STORAGE="s3", S3_BUCKET="b")

    assert storage["endpoint_url"] is None and storage["region_name"] is None
    assert storage["access_key"] is None and storage["secret_key"] is None
    assert storage["location"] == "attachments"
