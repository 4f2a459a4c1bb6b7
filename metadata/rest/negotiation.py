"""Content negotiation of the REST door: JSON is the only representation.

Errors must reach every client as JSON, so a client's `Accept` header never turns an answer
into a 406; the door always answers `application/json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Pick the first renderer whatever the client asks for."""

    def select_renderer(
        self, request: Any, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = renderers[0]
        return renderer, renderer.media_type
