"""What every domain uses and that knows no domain: settings, database, errors, clock, texts, limits, links."""
