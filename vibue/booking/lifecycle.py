"""The appointment status lifecycle: reserved → confirmed → checked-in → in call → completed | no-show | cancelled.

Every status change goes through `transition`, so no code path can, say, confirm a cancelled
appointment or reopen a completed one.
"""

from __future__ import annotations

from datetime import datetime

from vibue.core.errors import Conflict
from vibue.models import TRANSITIONS, Appointment

# How a call ended, and the status each outcome leaves (on site needed: this visit is done).
OUTCOME_STATUS = {"completed": "completed", "no_show": "no_show", "on_site_needed": "completed"}


def allowed(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, ())


def transition(appointment: Appointment, new: str, *, now: datetime) -> None:
    """Move to `new` or raise Conflict("status_conflict") naming the current status."""
    if not allowed(appointment.status, new):
        raise Conflict("status_conflict", status=appointment.status)
    appointment.status = new
    appointment.updated_at = now
