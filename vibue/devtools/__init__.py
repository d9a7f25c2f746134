"""Development helpers behind /dev (never registered in production): demo accounts, outbox, demo call."""
