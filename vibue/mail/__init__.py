"""Outgoing mail: the durable queue, transports (file outbox, SMTP) and calendar files; texts in vibue.core.i18n."""
