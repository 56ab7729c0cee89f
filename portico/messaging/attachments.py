"""What a message attachment may be (SPEC §7.2): one file, up to 25 MB, of the allowed kinds,
decided by its content (puremagic reads the file's signature), never by its name alone.

Plain text and XML have no signature: a file no signature matches is accepted as text only
when all of it is UTF-8 without control characters (read in chunks, never whole in memory).
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass

import puremagic
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

MAX_BYTES = 25 * 1024 * 1024

# The allowed kinds: extension -> the content type the download is sent with.
ALLOWED = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "xml": "application/xml",
    "gif": "image/gif",
    "jpg": "image/jpeg",
    "png": "image/png",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "wma": "audio/x-ms-wma",
    "aiff": "audio/aiff",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}
# Other names puremagic gives the same kinds.
ALIASES = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "aif": "aiff", "wave": "wav"}
# The extensions a file's own name may carry for each kind (kept when they fit the content).
NAME_EXTENSIONS = {"jpg": {"jpg", "jpeg"}, "aiff": {"aiff", "aif"}}

ALLOWED_LABEL = "PDF, TXT, XML, GIF, JPG, PNG, M4A, WAV, MP3, WMA, AIFF, MP4, MOV"

TOO_BIG = gettext_lazy("The file is larger than 25 MB. Attach a smaller file.")
EMPTY = gettext_lazy("The file is empty.")
NOT_ALLOWED = gettext_lazy(
    "This kind of file can't be attached. Allowed: PDF, TXT, XML, GIF, JPG, PNG, M4A, WAV, "
    "MP3, WMA, AIFF, MP4 and MOV files (checked by what the file contains, not by its name)."
)

_CHUNK = 64 * 1024
# Control characters a text file may contain: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = {"\t", "\n", "\f", "\r"}


@dataclass(frozen=True)
class Checked:
    """What an accepted file is: its kind (extension), content type and a download name."""

    kind: str
    content_type: str
    filename: str
    size: int


def _name_parts(name: str) -> tuple[str, str]:
    base = os.path.basename(name or "").strip().replace("\x00", "")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        return base, ""
    return stem, ext.lower()


def _signature_kinds(upload) -> list[str]:
    """The allowed kinds the file's signature matches, best match first."""
    upload.seek(0)
    try:
        matches = puremagic.magic_stream(upload)
    except (puremagic.PureError, ValueError):
        return []
    finally:
        upload.seek(0)
    kinds = []
    for match in matches:
        ext = match.extension.lstrip(".").lower()
        ext = ALIASES.get(ext, ext)
        if ext in ALLOWED and ext not in kinds:
            kinds.append(ext)
    return kinds


def _is_text(upload) -> bool:
    """All of the file is UTF-8 (a byte-order mark allowed) without control characters."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    upload.seek(0)
    try:
        for chunk in upload.chunks(_CHUNK):
            text = decoder.decode(chunk)
            if any(ch < " " and ch not in _TEXT_CONTROLS for ch in text) or "\x7f" in text:
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


def _text_kind(upload) -> str | None:
    if not _is_text(upload):
        return None
    upload.seek(0)
    head = upload.read(512).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    upload.seek(0)
    return "xml" if head.startswith("<?xml") else "txt"


def check_upload(upload) -> Checked:
    """Accept `upload` (a Django UploadedFile) or raise ValidationError with a message for the
    person who chose it. Reads the signature and, for text, the file in chunks."""
    size = upload.size
    if size is None or size > MAX_BYTES:
        raise ValidationError(TOO_BIG, code="too_big")
    if size == 0:
        raise ValidationError(EMPTY, code="empty")
    stem, name_ext = _name_parts(upload.name)
    kinds = _signature_kinds(upload)
    if "xml" in kinds or not kinds:
        # An XML signature is only "<?xml": the rest of the file must be text as well.
        text_kind = _text_kind(upload)
        kinds = [text_kind] if text_kind else []
    if not kinds:
        raise ValidationError(NOT_ALLOWED, code="kind")
    # The name's own extension wins when the content fits it (an .m4a is also an MP4 file).
    kind = next((k for k in kinds if name_ext in NAME_EXTENSIONS.get(k, {k})), kinds[0])
    ext = name_ext if name_ext in NAME_EXTENSIONS.get(kind, {kind}) else kind
    stem = (stem or gettext("attachment"))[:200]
    return Checked(kind=kind, content_type=ALLOWED[kind], filename=f"{stem}.{ext}", size=size)
