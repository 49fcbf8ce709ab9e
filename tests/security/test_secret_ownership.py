"""Secrets belong to their toolkit: masking and log filters live and die with it.

Short secrets (under four characters, or a common word) are masked only where they are
sent, with a load-time warning naming the variable.
"""

from __future__ import annotations

import gc
import json
import logging

import pytest

from langchain_apiactions import ApiActionsToolkit, ShortSecretWarning
from langchain_apiactions.redact import GUARDED_LOGGERS, SecretMaskingFilter
from tests.apiserver import ApiServer, Reply
from tests.helpers import call

A_KEY = "alpha-key-Zq81"


def _toolkit(api: ApiServer, env: dict[str, str], *, path: str = "/echo") -> ApiActionsToolkit:
    return ApiActionsToolkit(
        actions=[
            {
                "name": "Echo",
                "when_to_use": "Use when the visitor asks for the echo of the thing.",
                "method": "GET",
                "url": f"{api.url}{path}?pin=${{PIN}}",
                "headers": {"X-Key": "Key ${PIN}"},
            }
        ],
        env=env,
        allowed_networks=["127.0.0.0/8"],
    )


def _masking_filters() -> list[tuple[str, SecretMaskingFilter]]:
    return [
        (name, f)
        for name in GUARDED_LOGGERS
        for f in logging.getLogger(name).filters
        if isinstance(f, SecretMaskingFilter)
    ]


def test_one_toolkits_secret_never_masks_another_toolkits_data(api: ApiServer) -> None:
    api.route("GET", "/echo", Reply(200, {"note": f"text that mentions {A_KEY} and x"}))
    first = _toolkit(api, {"PIN": A_KEY})
    second = _toolkit(api, {"PIN": "beta-key-7710"})
    # The first toolkit's API echoing its own key: masked.
    assert call(first.get_tools()[0], {}).artifact["data"] == {
        "note": "text that mentions *** and x"
    }
    # The same text reaching the second toolkit is not its secret: left alone.
    msg = call(second.get_tools()[0], {})
    assert msg.artifact["data"] == {"note": f"text that mentions {A_KEY} and x"}
    first.close()
    second.close()


def test_log_filters_live_while_the_toolkit_is_open_and_go_with_close(
    api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    api.route("GET", "/echo", Reply(200, {"ok": True}))
    caplog.set_level(logging.DEBUG)
    before = _masking_filters()
    with _toolkit(api, {"PIN": A_KEY}) as tk:
        mine = [f for _, f in _masking_filters() if (_, f) not in before]
        assert {name for name, f in _masking_filters() if f in mine} == set(GUARDED_LOGGERS)
        call(tk.get_tools()[0], {})
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
        assert any("pin=***" in line for line in lines), lines
        assert not any(A_KEY in r.getMessage() for r in caplog.records)
    assert _masking_filters() == before


def test_an_unclosed_toolkit_takes_its_log_filters_when_collected(api: ApiServer) -> None:
    before = _masking_filters()
    tk = _toolkit(api, {"PIN": A_KEY})
    assert len(_masking_filters()) == len(before) + len(GUARDED_LOGGERS)
    del tk
    gc.collect()
    assert _masking_filters() == before


def test_a_closed_toolkits_secret_no_longer_masks_log_lines() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": "A",
                "when_to_use": "Use when the visitor asks about the thing in the store.",
                "method": "GET",
                "url": "https://a.example/?k=${K}",
            }
        ],
        env={"K": A_KEY},
    )
    record = logger.makeRecord(logger.name, logging.DEBUG, "f", 1, "GET /?k=%s", (A_KEY,), None)
    assert all(f.filter(record) for f in logger.filters)
    assert record.getMessage() == "GET /?k=***"
    tk.close()
    record = logger.makeRecord(logger.name, logging.DEBUG, "f", 1, "GET /?k=%s", ("other",), None)
    assert all(f.filter(record) for f in logger.filters)
    assert record.getMessage() == "GET /?k=other"


# ----------------------------------------------------------------- short secrets


@pytest.mark.parametrize(
    ("value", "why"),
    [("1", "only 1 character long"), ("ab", "only 2 characters long"), ("test", "a common word")],
)
def test_a_short_secret_warns_at_load_time_naming_the_variable(
    api: ApiServer, value: str, why: str
) -> None:
    with pytest.warns(ShortSecretWarning, match=rf"\$\{{PIN\}} is {why}") as seen:
        _toolkit(api, {"PIN": value}).close()
    assert all(f"={value}" not in str(w.message) for w in seen)


def test_pin_1_gives_readable_results_and_masks_only_where_it_is_sent(
    api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    api.route(
        "GET",
        "/echo",
        Reply(200, {"order": 1001, "items": [1, 2, 11], "note": "1 parcel, shipped 2021-01-01"}),
    )
    api.route("GET", "/fail", Reply(500, {"message": "order 1 not found (code 1)"}))
    caplog.set_level(logging.DEBUG)
    with pytest.warns(ShortSecretWarning):
        tk = _toolkit(api, {"PIN": "1"})
    tool = tk.get_tools()[0]
    msg = call(tool, {})
    # The API received the real value...
    assert api.last.query == "pin=1"
    assert api.last.headers["X-Key"] == "Key 1"
    # ...the results read as they are.
    assert msg.artifact["data"] == {
        "order": 1001,
        "items": [1, 2, 11],
        "note": "1 parcel, shipped 2021-01-01",
    }
    assert "1 parcel, shipped 2021-01-01" in msg.content
    assert "***" not in msg.content
    # Where it is sent, it is masked: the request as shown, and log lines quoting it.
    assert msg.artifact["request"]["url"].endswith("/echo?pin=***")
    prepared = tool.prepare({})
    assert prepared.display_headers["X-Key"] == "Key ***"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("/echo?pin=*** " in line for line in lines), lines
    assert not any("pin=1" in line for line in lines)
    # Errors stay readable too.
    failing = _toolkit_quiet(api, "/fail")
    err = call(failing.get_tools()[0], {})
    assert err.artifact["error"] == "HTTP 500 Internal Server Error: order 1 not found (code 1)"
    tk.close()
    failing.close()


def test_a_short_secret_in_a_failing_url_is_masked_in_the_error() -> None:
    with pytest.warns(ShortSecretWarning):
        tk = ApiActionsToolkit(
            actions=[
                {
                    "name": "Down",
                    "when_to_use": "Use when the visitor asks about the offline thing.",
                    "method": "GET",
                    "url": "http://127.0.0.1:9/orders/1?pin=${PIN}",
                }
            ],
            env={"PIN": "7"},
            allowed_networks=["127.0.0.0/8"],
        )
    msg = call(tk.get_tools()[0], {})
    assert "could not connect" in msg.artifact["error"]
    assert "pin=7" not in json.dumps(msg.artifact) + msg.content
    tk.close()


def _toolkit_quiet(api: ApiServer, path: str) -> ApiActionsToolkit:
    with pytest.warns(ShortSecretWarning):
        return _toolkit(api, {"PIN": "1"}, path=path)
