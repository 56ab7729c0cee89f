"""SPEC §7.2: one attachment per message, up to 25 MB, of the allowed kinds, decided by what the
file contains (real files of every kind in tests/messaging/files), never by its name alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from portico.messaging import attachments

FILES = Path(__file__).parent / "files"

EXPECTED = {
    "sample.pdf": ("pdf", "application/pdf"),
    "sample.txt": ("txt", "text/plain; charset=utf-8"),
    "sample.xml": ("xml", "application/xml"),
    "sample.gif": ("gif", "image/gif"),
    "sample.jpg": ("jpg", "image/jpeg"),
    "sample.png": ("png", "image/png"),
    "sample.m4a": ("m4a", "audio/mp4"),
    "sample.wav": ("wav", "audio/wav"),
    "sample.mp3": ("mp3", "audio/mpeg"),
    "sample.wma": ("wma", "audio/x-ms-wma"),
    "sample.aiff": ("aiff", "audio/aiff"),
    "sample.mp4": ("mp4", "video/mp4"),
    "sample.mov": ("mov", "video/quicktime"),
}


def upload(name: str, content: bytes | None = None, *, as_name: str | None = None):
    data = (FILES / name).read_bytes() if content is None else content
    return SimpleUploadedFile(as_name or name, data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_allowed_kind_is_accepted_by_its_content(name):
    checked = attachments.check_upload(upload(name))

    assert (checked.kind, checked.content_type) == EXPECTED[name]
    assert checked.filename == name
    assert checked.size == (FILES / name).stat().st_size


def test_the_allowed_list_covers_every_kind_the_spec_names():
    spec = {"pdf", "txt", "xml", "gif", "jpg", "png", "m4a", "wav", "mp3", "wma", "aiff", "mp4"}
    assert spec | {"mov"} == set(attachments.ALLOWED)
    assert {kind for kind, _type in EXPECTED.values()} == set(attachments.ALLOWED)


def test_a_renamed_executable_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as refused:
        attachments.check_upload(upload("renamed-executable.pdf"))

    assert refused.value.code == "kind"
    assert "can't be attached" in refused.value.messages[0]


@pytest.mark.parametrize("disguise", ["report.txt", "scan.png", "notes.xml", "photo.jpg"])
def test_an_executable_under_any_allowed_name_is_refused(disguise):
    with pytest.raises(ValidationError):
        attachments.check_upload(upload("renamed-executable.pdf", as_name=disguise))


def test_binary_data_without_a_known_signature_is_not_taken_for_text():
    with pytest.raises(ValidationError):
        attachments.check_upload(upload("x", b"\x00\x01\x02binary\xff\xfe", as_name="notes.txt"))


def test_a_file_whose_name_lies_gets_the_extension_of_its_content():
    checked = attachments.check_upload(upload("sample.png", as_name="lab-result.pdf"))

    assert checked.kind == "png"
    assert checked.filename == "lab-result.png"


def test_a_jpeg_keeps_its_jpeg_extension_and_an_aif_its_aif():
    assert attachments.check_upload(upload("sample.jpg", as_name="a.jpeg")).filename == "a.jpeg"
    assert attachments.check_upload(upload("sample.aiff", as_name="b.aif")).filename == "b.aif"


def test_a_text_file_with_a_control_character_is_refused():
    with pytest.raises(ValidationError):
        attachments.check_upload(upload("x", b"hello\x1b[31m red", as_name="a.txt"))


def test_xml_must_be_text_throughout():
    with pytest.raises(ValidationError):
        attachments.check_upload(upload("x", b'<?xml version="1.0"?>\x00\x00\xff', as_name="a.xml"))


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as refused:
        attachments.check_upload(upload("x", b"", as_name="empty.txt"))
    assert refused.value.code == "empty"


def _file_of_size(size: int) -> TemporaryUploadedFile:
    """A text file of exactly `size` bytes on disk, as Django hands over a large upload."""
    upload = TemporaryUploadedFile("big.txt", "text/plain", size, "utf-8")
    line = b"0123456789abcdef" * 4095 + b"0123456789abcde\n"  # 64 KiB
    left = size
    while left:
        upload.write(line[: min(left, len(line))])
        left -= min(left, len(line))
    upload.flush()
    upload.seek(0)
    return upload


def test_exactly_25_mb_is_accepted():
    with _file_of_size(attachments.MAX_BYTES) as big:
        assert attachments.check_upload(big).size == 25 * 1024 * 1024


def test_25_mb_and_one_byte_is_refused():
    with _file_of_size(attachments.MAX_BYTES + 1) as big, pytest.raises(ValidationError) as refused:
        attachments.check_upload(big)
    assert refused.value.code == "too_big"
    assert "25 MB" in refused.value.messages[0]


def test_a_name_with_a_path_keeps_only_the_file_name():
    checked = attachments.check_upload(upload("sample.pdf", as_name="../../etc/scan.pdf"))
    assert checked.filename == "scan.pdf"
