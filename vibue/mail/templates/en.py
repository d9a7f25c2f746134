"""English mail texts."""

from __future__ import annotations

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

TEXTS: dict[str, str] = {
    # Formats
    "format.datetime": "{weekday}, {day} {month} {year}, {time}",
    "format.time": "{time}",
    "format.slot": "{start} to {end}",
    # Sender
    "sender.name": "Citizens' Office {city}",
    # Subjects
    "subject.reservation": "Please confirm your appointment ({reference})",
    "subject.confirmation": "Your appointment is confirmed ({reference})",
    "subject.identity_code": "Your code for the video appointment ({reference})",
    "intro.identity_code": (
        "You asked for a code for your video appointment. Please enter it on the appointment's page:"
    ),
    "identity_code.validity": "The code is valid for 10 minutes and only once.",
    "identity_code.not_you": "If you did not ask for a code, you can ignore this email.",
    "subject.cancellation": "Your appointment has been cancelled ({reference})",
    "subject.reschedule": "Your appointment has been moved ({reference})",
    # Greeting and intros
    "greeting": "Hello {name},",
    "greeting.anonymous": "Hello,",
    "intro.reservation": (
        "thank you for your booking. We are holding the appointment for you until {held_until}. "
        "Please confirm it by then using the link below – otherwise it will be released."
    ),
    "confirm.prompt": "Confirm your appointment now:",
    "intro.confirmation": "Your appointment is confirmed. We look forward to seeing you.",
    "intro.cancellation": "Your appointment has been cancelled. The time is free for others again.",
    "intro.reschedule": "Your appointment has been moved. This is the new time:",
    "rebook.prompt": "You can book a new appointment at any time here:",
    # Details
    "label.reference": "Booking reference: {reference}",
    "label.concern": "Service: {concern}",
    "label.when": "Appointment: {when}",
    "label.channel": "Type: {channel}",
    "label.previous": "Previous time: {when}",
    "label.location": "Place: {location}",
    "channel.video": "Video appointment",
    "channel.on_site": "In person",
    "video.join": "Join the video appointment with this link:",
    "video.opens": (
        "The link opens 15 minutes before the start. All you need is an up-to-date browser, a camera and a microphone."
    ),
    "checklist.title": "Please have ready:",
    "manage.prompt": "Cancel or reschedule (no account needed):",
    "calendar.note": "The attachment adds the appointment to your calendar.",
    "calendar.cancel_note": "The attachment removes the appointment from your calendar.",
    "closing": "Kind regards\nCitizens' Office {city}",
    "footer": "This email was generated automatically. Please do not reply to it.",
    # Calendar entry
    "ics.summary": "{concern} – Citizens' Office {city}",
    "ics.video_location": "Video appointment – link in the email",
    "ics.alarm": "Tomorrow: {concern} – Citizens' Office {city}",
    "ics.reference": "Booking reference: {reference}",
}
