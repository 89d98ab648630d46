"""Which single-byte encoding an older program wrote a file in, decided by the whole file.

A file that is not UTF-8 comes from Excel on Windows (Windows-1252), Excel's "CSV (Macintosh)"
(Mac Roman), its "CSV (MS-DOS)" (IBM 850, or 858 with the euro sign), or a Unix tool
(ISO-8859-15). The four read every byte, so decoding never fails: only what the text looks
like tells them apart. Every word holding a byte of 128 or more is read in each of them and
scored (a control character is impossible; a common accented letter is likely; a capital inside
a small-letter word, a small letter inside a word of capitals, a letter glued to digits or a
symbol inside a word are unlikely). The best reading wins when it is clearly ahead of every
reading that gives other text; otherwise the file is refused as unclear rather than stored with
changed letters.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from api.import_types.row_error import ImportWarning, RowError
from api.imports.encodings import ENCODINGS

# IBM 858 rather than 850: the same but for one byte, the euro sign where 850 has a dotless i,
# and what spreadsheets write for "CSV (MS-DOS)".
CANDIDATES = ("cp1252", "mac-roman", "cp858", "iso8859-15")
# Below this lead over the next reading that gives other text, the evidence does not settle it.
MARGIN = 3
# Distinct words kept as evidence; later words only add to the counts of those already seen.
MAX_WORDS = 20_000

_COMMON = frozenset("éüöäñáóíçèàßøåãõúÉÜÖÄÑÁÓÍÇ")
_KNOWN = frozenset("ìòùâêîôûëïÿæœÀÈÌÒÙÂÊÎÔÛËÏÃÕÅØÆŒšžŠŽý")
_SYMBOLS = frozenset("€£¥°§©®«»¿¡’‘“”–—…•·½¼¾±×µ¢")
# A word holding a byte of 128 or more, from its start (possessive: no backtracking, so a pass
# over a large file stays linear).
_WORD = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]*+[\x80-\xff][A-Za-z0-9\x80-\xff]*+")
_HIGH = re.compile(rb"[\x80-\xff]")


def _char_score(prev: str, char: str, after: str) -> int:
    if unicodedata.category(char).startswith("C"):
        return -100
    by_digit = prev.isdigit() or after.isdigit()
    if char.isalpha():
        score = 3 if char in _COMMON else 2 if char in _KNOWN else 0
        if char.isupper() and prev.isalpha() and prev.islower():
            score -= 6
        if char.islower() and prev.isupper() and (not after.isalpha() or after.isupper()):
            score -= 5
        return score - 4 if by_digit else score
    if char in _SYMBOLS:
        if prev.isalpha() and after.isalpha():
            return -6
        return 2 if by_digit else 1
    return -6 if prev.isalpha() or after.isalpha() else -3


def _score(words: Counter[bytes], encoding: str) -> int:
    total = 0
    for word, count in words.items():
        # Windows-1252 leaves five bytes undefined: read as control characters, they rule it out.
        text = word.decode(encoding, errors="surrogateescape")
        for i, char in enumerate(text):
            if char.isascii():
                continue
            prev = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            total += _char_score(prev, char, after) * count
    return total


@dataclass
class Evidence:
    """What a pass over the file's bytes gathers: its words with non-ASCII bytes, and the first
    line holding one (to show the user how each encoding reads it)."""

    words: Counter[bytes] = field(default_factory=Counter)
    sample: tuple[int, bytes] | None = None
    _lines: int = 0

    def feed(self, chunk: bytes) -> None:
        if chunk.isascii():
            self._lines += chunk.count(b"\n")
            return
        if self.sample is None and (found := _HIGH.search(chunk)):
            start = chunk.rfind(b"\n", 0, found.start()) + 1
            end = chunk.find(b"\n", found.start())
            line = self._lines + chunk.count(b"\n", 0, found.start()) + 1
            self.sample = (line, chunk[start : end if end >= 0 else len(chunk)][:300].rstrip())
        self._lines += chunk.count(b"\n")
        words, found_words = self.words, _WORD.findall(chunk)
        if len(words) < MAX_WORDS:
            words.update(found_words)
        else:
            words.update(word for word in found_words if word in words)


@dataclass(frozen=True, slots=True)
class Reading:
    encoding: str
    score: int
    text: tuple[str, ...]  # the evidence as this encoding reads it


def decide(evidence: Evidence) -> tuple[str | None, list[Reading]]:
    """The encoding the evidence settles on (None when it does not), and every reading, best
    first."""
    words = evidence.words
    readings = sorted(
        (
            Reading(
                enc,
                _score(words, enc),
                tuple(w.decode(enc, errors="surrogateescape") for w in words),
            )
            for enc in CANDIDATES
        ),
        key=lambda r: -r.score,
    )
    best = readings[0]
    rivals = [r for r in readings[1:] if r.text != best.text]
    if best.score <= 0 or (rivals and best.score - rivals[0].score < MARGIN):
        return None, readings
    return best.encoding, readings


def _as_read(evidence: Evidence, encoding: str) -> str:
    assert evidence.sample is not None
    return evidence.sample[1].decode(encoding, errors="replace")


def guessed(evidence: Evidence, encoding: str) -> ImportWarning:
    """``encoding_guessed``: the user should see a line as it was read, to confirm."""
    line = evidence.sample[0] if evidence.sample else 1
    count = sum(evidence.words.values())
    return ImportWarning(
        "encoding_guessed",
        f"The file is not UTF-8: it was read as {ENCODINGS[encoding]}, which gives line {line} as "
        f'"{_as_read(evidence, encoding)}". If its accented letters look wrong, import the '
        "file again choosing its encoding (or save it as CSV UTF-8).",
        count,
    )


def unclear(evidence: Evidence, readings: list[Reading]) -> RowError:
    """``encoding_unclear``: the likely encodings, and the sample line as each reads it."""
    line = evidence.sample[0] if evidence.sample else None
    shown: list[str] = []
    seen: set[str] = set()
    for reading in readings:
        text = _as_read(evidence, reading.encoding)
        if reading.score > -100 and text not in seen:
            seen.add(text)
            shown.append(f'{ENCODINGS[reading.encoding]} reads it as "{text}"')
    message = (
        "The file is not UTF-8, and its accented letters read plausibly in more than one "
        f"encoding. Line {line}: " + "; ".join(shown) + ". Choose the file's encoding and "
        "upload it again, or save it from the spreadsheet as CSV UTF-8."
    )
    return RowError(line, None, None, "encoding_unclear", message)
