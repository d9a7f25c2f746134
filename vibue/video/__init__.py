"""The video appointment before the call: identity codes, join tokens, interpreter invitations."""
