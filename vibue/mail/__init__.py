"""Outgoing mail: transports (file outbox, SMTP), the durable queue, and the booking mails."""

from vibue.mail.compose import (
    BookingMailData,
    cancellation_mail,
    confirmation_mail,
    reschedule_mail,
    reservation_mail,
)
from vibue.mail.queue import MailQueue, mail_worker
from vibue.mail.transports import FileOutbox, MailTransport, SmtpTransport, make_transport

__all__ = [
    "BookingMailData",
    "FileOutbox",
    "MailQueue",
    "MailTransport",
    "SmtpTransport",
    "cancellation_mail",
    "confirmation_mail",
    "mail_worker",
    "make_transport",
    "reschedule_mail",
    "reservation_mail",
]
