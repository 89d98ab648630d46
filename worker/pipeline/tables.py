"""The temporary tables a job works in: private to its connection, dropped with its transaction."""

from __future__ import annotations

# Every row of the file that could be read as one: its cells' values, or only its key.
STAGE = "import_stage"
# What the set-based checks find, one row per error.
STAGE_ERRORS = "import_stage_errors"
# One batch of rows on the batched path (the columns of STAGE).
BATCH = "import_batch"
# What the batched path keeps of each batch for the checks no batch can make alone.
KEPT = "import_kept"
# validate_only's fast path: the keys of a file expected to be clean.
DRY = "import_dry"

# The first columns of STAGE: the record's line, and whether all its cells passed the row model.
# Rows with bad cells are staged too (when their key is readable), so that the checks against
# other rows and stored data report every problem of a file in one round; they are never
# applied.
KEY_COLUMNS = (("line", "bigint NOT NULL"), ("cells_ok", "boolean NOT NULL"))
GOOD_ROW = f"s.cells_ok AND NOT EXISTS (SELECT 1 FROM {STAGE_ERRORS} e WHERE e.line = s.line)"
