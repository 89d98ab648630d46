"""The CLI's reconciliation line: every row read is accounted for."""

from __future__ import annotations

from cli.client.report import reconciliation


def test_an_applied_result_reconciles_with_its_blank_rows_and_file() -> None:
    result = {"rows": 5, "created": 2, "updated": 1, "unchanged": 0, "failed": 2}
    line = reconciliation({**result, "blank_rows": 3, "sha256": "ab12"})
    assert line == (
        "Rows read: 5 = 2 created + 1 updated + 0 unchanged + 2 failed; "
        "3 blank rows skipped; file sha256 ab12."
    )


def test_a_failed_import_shows_the_rows_it_did_not_apply() -> None:
    line = reconciliation({"rows": 10, "created": 0, "updated": 0, "unchanged": 0, "failed": 2})
    assert line.startswith("Rows read: 10 = 0 created + 0 updated + 0 unchanged + 2 failed + 8 ")
    assert "8 not applied; 0 blank rows skipped." in line
