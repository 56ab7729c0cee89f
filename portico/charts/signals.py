"""What charts tell the apps above them, which charts itself must not import."""

from django.dispatch import Signal

# Sent by charts.services.encounter_sign inside its transaction, with `encounter` (the signed
# Encounter). Receivers that act on the signature defer their work until it commits
# (transaction.on_commit), as portal's auto-invite does.
encounter_signed = Signal()
