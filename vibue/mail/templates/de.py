"""German mail texts (the default)."""

from __future__ import annotations

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)

TEXTS: dict[str, str] = {
    # Formats
    "format.datetime": "{weekday}, {day}. {month} {year}, {time} Uhr",
    "format.time": "{time} Uhr",
    "format.slot": "{start} bis {end}",
    # Sender
    "sender.name": "Bürgeramt {city}",
    # Subjects
    "subject.reservation": "Bitte bestätigen Sie Ihren Termin ({reference})",
    "subject.confirmation": "Ihr Termin ist bestätigt ({reference})",
    "subject.identity_code": "Ihr Code für den Videotermin ({reference})",
    "intro.identity_code": (
        "Sie haben einen Code für Ihren Videotermin angefordert. Bitte geben Sie ihn auf der Seite des Termins ein:"
    ),
    "identity_code.validity": "Der Code gilt 10 Minuten und nur einmal.",
    "identity_code.not_you": "Wenn Sie keinen Code angefordert haben, können Sie diese E-Mail ignorieren.",
    "subject.cancellation": "Ihr Termin wurde storniert ({reference})",
    "subject.reschedule": "Ihr Termin wurde verschoben ({reference})",
    # Greeting and intros
    "greeting": "Guten Tag {name},",
    "greeting.anonymous": "Guten Tag,",
    "intro.reservation": (
        "vielen Dank für Ihre Buchung. Wir halten den Termin bis {held_until} für Sie frei. "
        "Bitte bestätigen Sie ihn bis dahin über den folgenden Link – sonst geben wir ihn wieder frei."
    ),
    "confirm.prompt": "Termin jetzt bestätigen:",
    "intro.confirmation": "Ihr Termin ist bestätigt. Wir freuen uns auf Sie.",
    "intro.cancellation": "Ihr Termin wurde storniert. Der Zeitpunkt ist wieder für andere frei.",
    "intro.reschedule": "Ihr Termin wurde verschoben. Es gilt ab sofort die neue Zeit:",
    "rebook.prompt": "Einen neuen Termin können Sie jederzeit hier buchen:",
    # Details
    "label.reference": "Buchungsnummer: {reference}",
    "label.concern": "Anliegen: {concern}",
    "label.when": "Termin: {when}",
    "label.channel": "Art: {channel}",
    "label.previous": "Bisheriger Termin: {when}",
    "label.location": "Ort: {location}",
    "channel.video": "Videotermin",
    "channel.on_site": "Vor Ort",
    "video.join": "Zum Videotermin gelangen Sie über diesen Link:",
    "video.opens": (
        "Der Link öffnet 15 Minuten vor Beginn. Sie brauchen nur einen aktuellen Browser, eine Kamera und ein Mikrofon."
    ),
    "checklist.title": "Bitte halten Sie bereit:",
    "manage.prompt": "Termin absagen oder verschieben (ohne Anmeldung):",
    "calendar.note": "Im Anhang finden Sie den Termin zum Eintragen in Ihren Kalender.",
    "calendar.cancel_note": "Mit dem Anhang können Sie den Termin aus Ihrem Kalender entfernen.",
    "closing": "Mit freundlichen Grüßen\nIhr Bürgeramt {city}",
    "footer": "Diese E-Mail wurde automatisch erstellt. Bitte antworten Sie nicht darauf.",
    # Calendar entry
    "ics.summary": "{concern} – Bürgeramt {city}",
    "ics.video_location": "Videotermin – Link in der E-Mail",
    "ics.alarm": "Morgen: {concern} – Bürgeramt {city}",
    "ics.reference": "Buchungsnummer: {reference}",
}
