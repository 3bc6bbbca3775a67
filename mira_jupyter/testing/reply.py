"""What the scripted model sends back for one request (shared by both endpoints)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reply:
    """What to send back: status, headers, and body parts with stall/cut markers."""

    status: int
    headers: dict[str, str]
    parts: list[bytes | tuple[str, float]] = field(default_factory=list)
    head_stall: float = 0.0
