"""Which appointments a staff member serves: the one rule the clerk's day, the call and documents share."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.models import Appointment, Capacity, Staff


def serves(staff: Staff) -> ColumnElement[bool]:
    """SQL condition on Appointment: admins serve every appointment, a clerk those of the unit and
    location pairs they have a shift for (any weekday)."""
    if staff.role == "admin":
        return true()
    return exists().where(
        Capacity.staff_id == staff.id,
        Capacity.unit_id == Appointment.unit_id,
        Capacity.location_id == Appointment.location_id,
    )


async def may_serve(session: AsyncSession, staff: Staff, appointment: Appointment) -> bool:
    """Whether `staff` serves this (loaded) appointment."""
    if staff.role == "admin":
        return True
    shift = await session.scalar(
        select(Capacity.id).where(
            Capacity.staff_id == staff.id,
            Capacity.unit_id == appointment.unit_id,
            Capacity.location_id == appointment.location_id,
        )
    )
    return shift is not None
