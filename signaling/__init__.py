"""Socket.IO signaling: connect auth, rooms, waiting room and admission, relay of SDP and ICE.

`signaling.setup(app)` plugs it into an app built by vibue.app.create_app (see run.py).
"""

from signaling.server import SIGNALING, Signaling, setup

__all__ = ["SIGNALING", "Signaling", "setup"]
