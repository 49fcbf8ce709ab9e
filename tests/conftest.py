from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.apiserver import ApiServer

# Property tests check what is rendered and sent, not how fast: speed lives in
# benchmarks/. Hypothesis's default 200 ms deadline per example only measures how busy
# the machine is (a loaded CI runner turned it into failures).
settings.register_profile("apiactions", deadline=None)
settings.load_profile("apiactions")


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the secrets they set; proxies from the machine never apply."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_log_filters_outlive_a_test() -> Iterator[None]:
    """A toolkit's log filters go with it: none may outlive the test that made it."""
    from langchain_apiactions.redact import GUARDED_LOGGERS

    def filters() -> list[tuple[str, int]]:
        return [(n, id(f)) for n in GUARDED_LOGGERS for f in logging.getLogger(n).filters]

    before = filters()
    yield
    if filters() != before:
        gc.collect()  # an unclosed toolkit's filters go when it is collected
        leaked = [f for f in filters() if f not in before]
        assert not leaked, f"log filters outlived the test: {leaked}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the random order's seed even under `-q`, so a failing order can be replayed."""
    seed = config.getoption("randomly_seed", default=None)
    if seed is not None and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f"test order: random, replay with `python -m pytest -p randomly -p no:cacheprovider "
            f"--randomly-seed={seed}`"
        )
