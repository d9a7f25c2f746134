"""The clerk's desk: the day's appointments and counting walk-ins."""
