"""The Socket.IO packet format as ViBü speaks it: JSON only, no binary attachments.

A packet may announce binary attachments ("451-[...]"); python-socketio then keeps every
following binary frame in memory until the announced number arrived, up to ten digits' worth,
before any of our checks run. The protocol (docs/signaling.md) has no binary data, so such a
packet is refused as it is decoded and nothing is held.
"""

from __future__ import annotations

from typing import Any

from socketio import packet


class JsonOnlyPacket(packet.Packet):  # type: ignore[misc]  # python-socketio ships no types
    def decode(self, encoded_packet: Any) -> int:
        attachments = int(super().decode(encoded_packet))
        if attachments:
            raise ValueError("binary attachments are not part of the ViBü protocol")
        return attachments
