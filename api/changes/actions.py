"""The actions of a row of an import, as stored (a small integer) and as shown (a word)."""

from __future__ import annotations

import enum


class ChangeAction(enum.IntEnum):
    CREATE = 1
    UPDATE = 2
    UNCHANGED = 3
    FAILED = 4
    # A revert's removal of a case its import created.
    DELETE = 5

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def from_word(cls, word: str) -> ChangeAction:
        return cls[word.upper()]


def sql_list(actions: tuple[ChangeAction, ...]) -> str:
    return "(" + ", ".join(str(int(a)) for a in actions) + ")"


# The rows that show in a case's history: the ones that changed it.
CHANGING = (ChangeAction.CREATE, ChangeAction.UPDATE, ChangeAction.DELETE)
