"""The events an endpoint can subscribe to, and the test event sent on request."""

from __future__ import annotations

from enum import StrEnum

from api.imports.status import ImportStatus


class EventType(StrEnum):
    IMPORT_COMPLETED = "import.completed"
    IMPORT_FAILED = "import.failed"
    IMPORT_CANCELLED = "import.cancelled"
    IMPORT_REVERTED = "import.reverted"


# Sent only by "send a test event", to that one endpoint, whatever it subscribes to.
TEST_EVENT = "webhook.test"

FINISHED_EVENT = {
    ImportStatus.COMPLETED: EventType.IMPORT_COMPLETED,
    ImportStatus.FAILED: EventType.IMPORT_FAILED,
    ImportStatus.CANCELLED: EventType.IMPORT_CANCELLED,
}
