"""The comparison keys of a case, computed in one place for every writer.

``tag_id`` is compared case-insensitively; ``about`` case-insensitively with runs of white
space folded to one space (docs/format.md). The unique constraints of ``cases`` hold on these
keys, and the worker's checks compare the same keys, so a check and a constraint never
disagree. Python computes them, not a generated column: PostgreSQL's regular expressions cost
a large add far more (docs/performance.md), and only the worker writes cases.
"""

from __future__ import annotations


def tag_key(tag_id: str) -> str:
    # Tags are ASCII (docs/format.md), so lower() is the whole of case folding for them.
    return tag_id.lower()


def about_key(about: str) -> str:
    # Printable text has no white space but " ": without two in a row or one at either end,
    # folding would give it back unchanged, and this test is cheaper than folding.
    if about.isprintable() and "  " not in about and about.strip(" ") == about:
        return about.lower()
    # split() drops leading and trailing white space and splits on every run of it.
    return " ".join(about.split()).lower()
