"""Every table, imported in one place for alembic's autogenerate and for metadata checks."""

from api.apps.models import App, Membership
from api.audit.models import AuditEvent
from api.auth.models import ApiToken, LoginFailure, User, UserSession
from api.cases.models import Case
from api.changes.models import ImportChange
from api.db import Base
from api.imports.models import (
    FileChunk,
    IdempotencyKey,
    Import,
    ImportFile,
    ImportRowError,
    StoredFile,
)
from api.mappings.models import ColumnMapping
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiToken",
    "App",
    "AuditEvent",
    "Base",
    "Case",
    "ColumnMapping",
    "FileChunk",
    "IdempotencyKey",
    "Import",
    "ImportChange",
    "ImportFile",
    "ImportRowError",
    "LoginFailure",
    "Membership",
    "StoredFile",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
