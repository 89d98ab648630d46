"""The comparison keys of a case, computed in one place for every writer.

``tag_id`` is compared case-insensitively; ``about`` case-insensitively with runs of white
space folded to one space (FORMAT.md). The unique constraints of ``cases`` hold on these keys,
and the worker's checks compare the same keys, so a check and a constraint never disagree.
Python computes them (not a generated column): in PostgreSQL the regular expression and the
stored expressions cost about 1.5 s of a million-row add, while here they cost ~0.4 µs a row,
and only the worker writes cases.
"""

from __future__ import annotations


def tag_key(tag_id: str) -> str:
    # Tags are ASCII (FORMAT.md), so lower() is the whole of case folding for them.
    return tag_id.lower()


def about_key(about: str) -> str:
    # Printable text has no white space but " ": without two in a row or one at either end,
    # folding would give it back unchanged (and that test costs a third of the folding).
    if about.isprintable() and "  " not in about and about.strip(" ") == about:
        return about.lower()
    # split() drops leading and trailing white space and splits on every run of it.
    return " ".join(about.split()).lower()
