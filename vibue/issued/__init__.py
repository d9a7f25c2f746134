"""Issued documents: the records of the signed PDFs a clerk issues in a call, their revocation,
verification and retention. Rendering and signing are not here: they live in the top-level
`documents` package, which plugs in through `vibue.issued.ports.DocumentFactory` (see run.py)."""
