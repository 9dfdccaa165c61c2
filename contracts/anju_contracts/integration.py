"""Events of the integration service: what other systems pushed into Anju, and Anju's answers.

Topic ``integration.events``, key = stream id. The service's inbound topics (each a FastStream
subscriber of its own) are described with their contracts.
"""

from __future__ import annotations

from anju_contracts.base import EventCatalog

SOURCE = "integration"


CATALOG = EventCatalog(SOURCE, [])
