"""The Socket.IO packet format as ViBü speaks it: JSON only, no binary attachments.

A packet may announce binary attachments ("451-[...]"); python-socketio then keeps every
following binary frame in memory until the announced number arrived, up to ten digits' worth,
before any of our checks run. The protocol (docs/signaling.md) has no binary data, so such a
packet is refused as it is decoded and nothing is held.
"""

from __future__ import annotations

import json
from typing import Any

from socketio import packet


class SafeJson:
    """The json of engine.io and socket.io packets: JSON nested past the recursion limit is a
    ValueError, which both decoders treat as a malformed packet, instead of a RecursionError
    that escaped them with a traceback (engine.io decodes a text frame's JSON itself)."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(text, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deep") from None


class JsonOnlyPacket(packet.Packet):  # type: ignore[misc]  # python-socketio ships no types
    def decode(self, encoded_packet: Any) -> int:
        attachments = int(super().decode(encoded_packet))
        if attachments:
            raise ValueError("binary attachments are not part of the ViBü protocol")
        return attachments
