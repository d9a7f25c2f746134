"""Booking: reserve, confirm, cancel and reschedule an appointment, its status lifecycle and its mails."""
