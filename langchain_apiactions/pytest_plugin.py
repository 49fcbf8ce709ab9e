"""The pytest plugin of langchain-apiactions (entry point `pytest11`): one fixture.

`apiactions_cassette` is a per-test cassette path, `cassettes/<module>/<test>.yaml`
under the test file's folder: pass it as `cassette=` to a toolkit or an agent, run the
test once against the real API (it records), commit the file, and the test replays it
from then on (`record_mode="once"`). Importing this module imports nothing else of the
library, so the plugin costs a pytest run nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

__all__ = ["apiactions_cassette"]


@pytest.fixture
def apiactions_cassette(request: pytest.FixtureRequest) -> Path:
    """The cassette path of this test (it is not created; the first run records it)."""
    test_file = Path(str(request.node.path))
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_") or "test"
    return test_file.parent / "cassettes" / test_file.stem / f"{name}.yaml"
