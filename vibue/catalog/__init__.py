"""The catalog citizens book from: service units, concerns, locations with opening hours, and free slots."""
