"""What may be kept and for how long: the recording and retention policy, and the job that applies it."""
