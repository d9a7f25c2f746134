"""Outgoing mail: the durable queue, transports (file outbox, SMTP), calendar files and text catalogs."""
