"""Wire models of the catalog API: units, concerns, locations and free slots (booking steps 1-4)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from vibue.core.fields import Day, RowId, Strict


class UnitOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str


class UnitsOut(BaseModel):
    units: list[UnitOut]


class ConcernOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    duration_minutes: int
    channels: list[str]
    checklist: list[str]


class ConcernsOut(BaseModel):
    concerns: list[ConcernOut]


class HoursOut(BaseModel):
    weekday: int
    opens: str
    closes: str


class LocationOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: str
    channel: str
    address: str
    opening_hours: list[HoursOut]


class LocationsOut(BaseModel):
    locations: list[LocationOut]


class SlotsQuery(Strict):
    unit: RowId
    concern: RowId
    location: RowId
    from_: Day | None = Field(default=None, alias="from")
    days: int = Field(default=7, ge=1, le=31)


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class DayOut(BaseModel):
    date: date
    open: bool = Field(description="false: the location is closed that day (no opening hours, or a closure)")
    slots: list[SlotOut]


class SlotsOut(BaseModel):
    timezone: str
    today: date = Field(
        description="Today in the office's time zone by the server's clock: no page starts earlier. "
        "Pages use it, not the device's clock, which may be off."
    )
    next_free: SlotOut | None
    days: list[DayOut]
    horizon_end: date
