"""The appointment status lifecycle only moves forward along its allowed edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vibue.booking.lifecycle import allowed, transition
from vibue.core.errors import Conflict
from vibue.models import STATUSES, TRANSITIONS, Appointment

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_every_status_has_its_edges_and_end_states_are_final() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert allowed("reserved", "confirmed")
    assert allowed("confirmed", "checked_in")
    assert allowed("in_call", "completed")
    for final in ("completed", "no_show", "cancelled"):
        assert not any(allowed(final, other) for other in STATUSES)
    assert not allowed("reserved", "in_call"), "an unconfirmed booking cannot go into a call"


@pytest.mark.parametrize(
    ("current", "new"), [("cancelled", "confirmed"), ("completed", "in_call"), ("reserved", "completed")]
)
def test_refused_transitions_name_the_current_status(current: str, new: str) -> None:
    appointment = Appointment(status=current)
    with pytest.raises(Conflict) as raised:
        transition(appointment, new, now=NOW)
    assert (raised.value.code, raised.value.params) == ("status_conflict", {"status": current})
    assert appointment.status == current


def test_allowed_transition_updates_status_and_time() -> None:
    appointment = Appointment(status="reserved")
    transition(appointment, "confirmed", now=NOW)
    assert (appointment.status, appointment.updated_at) == ("confirmed", NOW)
