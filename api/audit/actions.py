"""What the audit log records: stable dotted words, the same in the database and the API."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    APP_CREATED = "app.created"
    APP_GRANTED = "app.granted"
    IMPORT_CREATED = "import.created"
    IMPORT_CANCELLED = "import.cancelled"
    IMPORT_FILE_ATTACHED = "import.file_attached"
    IMPORT_APPLIED = "import.applied"
    IMPORT_CHECKED_AGAIN = "import.checked_again"
    IMPORT_REVERTED = "import.reverted"
    IMPORT_CORRECTED = "import.corrected"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"  # noqa: S105 - an action, not a secret
    WEBHOOK_DELETED = "webhook.deleted"
