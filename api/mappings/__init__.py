"""The column mapping last used for each app and import type, offered for the next upload."""
