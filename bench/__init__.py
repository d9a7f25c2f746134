"""Benchmarks: figures printed next to a bare baseline measured in the same run (`make bench`)."""
