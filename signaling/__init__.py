"""signaling: filled by later issues (see ../shared/ARCHITECTURE.md)."""
