"""Wire models of the clerk's desk: the day list, on-site concerns and walk-in counts."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vibue.core.fields import Day, Named, RowId


class ClerkDayQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Day | None = Field(default=None, description="Local day (YYYY-MM-DD); today when left out.")


class ClerkAppointment(BaseModel):
    id: int
    reference: str
    start: datetime
    end: datetime
    concern: Named
    citizen_name: str
    channel: str
    status: str
    location: Named


class WalkInCount(BaseModel):
    concern_id: int
    name: str
    count: int


class ClerkDayOut(BaseModel):
    date: dt.date
    appointments: list[ClerkAppointment]
    walk_ins: list[WalkInCount]


class ClerkConcernsOut(BaseModel):
    concerns: list[Named]


class WalkInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concern_id: RowId
    location_id: RowId | None = Field(default=None, description="Defaults to a location serving it.")


class WalkInOut(BaseModel):
    concern_id: int
    count_today: int


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["completed", "no_show", "on_site_needed"]


class OutcomeOut(BaseModel):
    id: int
    status: str
    outcome: str
