"""What charts tell the apps above them, which charts itself must not import."""

from django.dispatch import Signal

# Sent by charts.services.encounter_sign inside its transaction, with `encounter` (the signed
# Encounter). Receivers that act on the signature defer their work until it commits
# (transaction.on_commit), as portal's auto-invite does.
encounter_signed = Signal()

# Sent by charts.services inside their transaction when something newly becomes visible in the
# patient's record that the patient may want to know of: `patient`, and `what` ("results" when a
# lab result is shared, "visit_summary" when a signed encounter's summary is shared).
record_shared = Signal()
