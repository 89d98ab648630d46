"""The corpus is made once per test session, by LibreOffice, in a temporary folder (see
``make.py``). Without ``soffice`` its tests are skipped, saying so; ``make test`` installs
LibreOffice first (``scripts/ensure-libreoffice``), so CI always runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import make


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = make.soffice()
    if binary is None:
        pytest.skip(
            "soffice is missing: LibreOffice makes the corpus of exported files; install it "
            "with scripts/ensure-libreoffice (apt-get install libreoffice-calc-nogui), as "
            "`make test` does"
        )
    return make.generate(tmp_path_factory.mktemp("corpus"), binary)
