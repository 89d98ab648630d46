"""Settings refused at start rather than at the first request that needs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.config import Settings


def test_the_upload_spool_folder_must_exist(tmp_path: Path) -> None:
    assert Settings(upload_spool_dir=str(tmp_path)).upload_spool_dir == str(tmp_path)
    assert Settings(upload_spool_dir="").upload_spool_dir is None
    with pytest.raises(ValidationError, match="not an existing folder"):
        Settings(upload_spool_dir=str(tmp_path / "missing"))
