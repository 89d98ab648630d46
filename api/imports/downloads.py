"""The headers of a download named after a file a user uploaded (RFC 6266)."""

from __future__ import annotations

import re
from urllib.parse import quote

# What a quoted-string filename may hold safely in every browser: printable ASCII but quotes
# and backslashes.
_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(filename: str) -> str:
    """``attachment`` with the name as ASCII for old clients and, when it is not plain ASCII,
    the exact name in UTF-8 (``filename*``), which every current browser prefers."""
    plain = _UNSAFE.sub("_", filename) or "download"
    header = f'attachment; filename="{plain}"'
    if plain != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
