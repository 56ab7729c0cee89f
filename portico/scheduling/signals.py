"""What scheduling tells the apps above it, which scheduling itself must not import."""

from django.dispatch import Signal

# Sent by scheduling.services inside their transaction when an appointment becomes booked (booked
# directly, or a pending or proposed one confirmed), with `appointment` and `actor`. Receivers
# that send something defer it until the booking commits (intake's automatic forms do).
appointment_booked = Signal()
