"""Staff accounts: sign-in with password and TOTP, authenticator enrolment, sessions."""
