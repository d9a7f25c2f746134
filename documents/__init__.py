"""documents: the issued documents rendered (templates/, layout.py, render.py) and sealed
(pki.py, keys.py, stamp.py, sealing.py); factory.py plugs both into the app as vibue.issued's port."""

from documents.factory import setup

__all__ = ["setup"]
