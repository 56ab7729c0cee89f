"""The token of a reminder email's unsubscribe link (RFC 8058).

It names the chart by its public id (a random UUID, which says nothing about the patient) and
carries an HMAC-SHA256 of it under SECRET_KEY with a salt of its own (django.core.signing),
256 bits, so nobody can make one for another chart; the signature is checked in constant time.
It does not expire: an unsubscribe link has to work for as long as the email is kept.
"""

from __future__ import annotations

import uuid

from django.core import signing

from portico.charts.models import Patient

_SALT = "portico.scheduling.reminder-unsubscribe"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, algorithm="sha256")


def unsubscribe_token(patient: Patient) -> str:
    return _signer().sign(patient.public_id.hex)


def patient_of(token: str) -> Patient | None:
    """The chart the token was made for, or None when it is forged, altered or unknown."""
    try:
        value = _signer().unsign(token or "")
        public_id = uuid.UUID(hex=value)
    except (signing.BadSignature, ValueError):
        return None
    return Patient.objects.select_related("practice").filter(public_id=public_id).first()
