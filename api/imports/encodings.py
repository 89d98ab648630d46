"""The text encodings a CSV file may be read with, by the names Python's codecs give them."""

from __future__ import annotations

import codecs

# What each is, for people: the program that writes it.
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "utf-16": "UTF-16 with a byte-order mark",
    "utf-16-le": "UTF-16, little-endian",
    "utf-16-be": "UTF-16, big-endian",
    "cp1252": "Windows-1252 (Excel on Windows)",
    "mac-roman": 'Mac Roman (Excel\'s "CSV (Macintosh)")',
    "cp858": "IBM 858: IBM 850 with the euro sign (Excel's and LibreOffice's \"CSV (MS-DOS)\")",
    "cp850": "IBM 850",
    "iso8859-15": "ISO-8859-15",
    "iso8859-1": "ISO-8859-1",
}


def canonical(name: str) -> str | None:
    """The codec name for ``name`` in any of its spellings (``windows-1252``, ``latin-9``,
    ``macintosh``), or None when it is not one of ``ENCODINGS``."""
    try:
        found = codecs.lookup(name.strip()).name
    except LookupError:
        return None
    return found if found in ENCODINGS else None
