"""Model calls of an eval run: which model, the disk cache, retries, usage and latency."""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, message_to_dict, messages_from_dict
from pydantic import SecretStr

from langchain_apiactions.cassette import Recordings, RecordMode
from langchain_apiactions.errors import CaseError

__all__ = [
    "CallStats",
    "CaseError",
    "ModelCaller",
    "ModelCassette",
    "ModelInfo",
    "ResponseCache",
    "describe_model",
]

_PROVIDERS = {
    "apiactions-offline": "offline",
    "apiactions-offline-semantic": "offline-semantic",
    "openai-chat": "openai",
    "azure-openai-chat": "azure_openai",
    "anthropic-chat": "anthropic",
    "chat-ollama": "ollama",
}
_LOCAL = {"offline", "offline-semantic"}
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 524, 529})


@dataclass(frozen=True)
class ModelInfo:
    """The model an eval run talks to, as the report and the cache key name it.

    Attributes:
        provider: `offline`, `offline-semantic`, `openai`, ... (LangChain's `_llm_type`
            when it is not one of ours).
        name: The model's name (`gpt-4.1-mini`), empty for the offline choosers.
        base_url: Where the requests go (None: the provider's default).
        temperature: The sampling temperature, when the model has one.
    """

    provider: str
    name: str = ""
    base_url: str | None = None
    temperature: float | None = None

    @property
    def host(self) -> str | None:
        """The base URL's host (and port), never its path or credentials."""
        if not self.base_url:
            return None
        parts = urllib.parse.urlsplit(self.base_url)
        return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else None

    @property
    def label(self) -> str:
        """`openai:gpt-4.1-mini at 127.0.0.1:8000`, `offline`."""
        text = f"{self.provider}:{self.name}" if self.name else self.provider
        return f"{text} at {self.host}" if self.host else text

    @property
    def local(self) -> bool:
        """An in-process chooser: nothing is sent, so nothing is cached or retried."""
        return self.provider in _LOCAL


def describe_model(model: BaseChatModel) -> ModelInfo:
    """What `model` is, read from the attributes LangChain's chat models share."""
    llm_type = getattr(model, "_llm_type", type(model).__name__)
    provider = _PROVIDERS.get(llm_type, llm_type)
    name = ""
    if provider not in _LOCAL:
        name = str(getattr(model, "model_name", None) or getattr(model, "model", None) or "")
    base = getattr(model, "openai_api_base", None) or getattr(model, "base_url", None)
    if provider == "openai" and not base:
        base = "https://api.openai.com/v1"
    temperature = getattr(model, "temperature", None)
    return ModelInfo(
        provider,
        name,
        str(base) if base else None,
        float(temperature) if isinstance(temperature, (int, float)) else None,
    )


@dataclass
class CallStats:
    """Counts over a run's model calls (thread-safe through `lock`)."""

    calls: int = 0
    cached: int = 0
    retries: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def percentile(self, q: float) -> float | None:
        """The `q` quantile (0..1) of the latencies of the calls sent (nearest rank)."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
        return round(ordered[rank - 1], 2)


class ResponseCache:
    """Model responses on disk, one JSON file per request fingerprint.

    A response is stored once it arrived; a rerun of an unchanged case reads it instead
    of sending the request. Files are written whole (a temporary file renamed), so
    parallel cases and interrupted runs never leave half a response.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / "responses" / key[:2] / f"{key}.json"

    def get(self, key: str) -> AIMessage | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            [message] = messages_from_dict([data["message"]])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return message if isinstance(message, AIMessage) else None

    def put(self, key: str, message: AIMessage) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"message": message_to_dict(message)}, default=str)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)


_CASSETTE_HEADER = (
    "# apiactions eval cassette: the model's answers, keyed on the request's fingerprint\n"
)


class ModelCassette:
    """The model's answers of `apiactions eval` runs in one readable YAML file.

    The eval calls no API (it stops at the first action the model calls), so the only
    thing it sends is the model's requests: `--cassette FILE` records those answers and
    replays them, for a run with no model server, no key and no network (CI). A request
    matches a recording on the response cache's fingerprint (provider, model, base URL,
    temperature, the tools and every message, the system prompt included), so a changed
    description or prompt is a request with no recording. Modes as the toolkit's
    `record_mode`: `once` records when the file is missing and only replays when it
    exists; `none` only replays (a request with no recording ends its case in an error
    naming the cassette, nothing sent); `new_episodes` replays what is recorded and
    records the rest; `all` records everything again. The offline choosers send nothing,
    so nothing of theirs is recorded. What is written: the model, the conversation's
    visitor and model turns (not the system prompt), and the answer (text, tool calls,
    usage); never a header, so never the model's API key.

    Raises:
        CassetteError: the mode is unknown or the file cannot be read.
    """

    def __init__(self, path: str | Path, mode: RecordMode = "once") -> None:
        # In a stable order (parallel cases finish in any order): a rerun diffs cleanly.
        self._file = Recordings(
            path,
            mode,
            "answers",
            _CASSETTE_HEADER,
            kind=" (not an eval cassette?)",
            order=lambda e: json.dumps(e.get("request"), sort_keys=True, default=str),
        )
        self.path = self._file.path
        self.mode: RecordMode = mode

    def __repr__(self) -> str:
        return f"ModelCassette({str(self.path)!r}, mode={self.mode!r})"

    def answer(
        self,
        key: str,
        messages: Sequence[BaseMessage],
        model: str,
        send: Callable[[], AIMessage],
    ) -> tuple[AIMessage, bool]:
        """The answer to the request `key` and whether it was replayed (nothing sent).

        Raises:
            CaseError: replay only, and no recording of this request.
        """
        if self._file.replaying:
            found = self._file.find(lambda entry: (entry.get("request") or {}).get("key") == key)
            if found is not None:
                return _answer_of(found["answer"]), True
            if not self._file.recording:
                msg = (
                    f"no recording of this model request in the cassette {self.path} "
                    f"(record mode {self.mode}; a description, prompt or case changed?): "
                    "nothing sent"
                )
                raise CaseError(msg)
        answer = send()
        entry = {
            "request": {"key": key, "model": model, "conversation": _turns(messages)},
            "answer": _answer_dict(answer),
        }
        self._file.record(entry)
        return answer, False


def _turns(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation as written in the cassette (the system prompt left out)."""
    turns: list[dict[str, Any]] = []
    for m in messages:
        if m.type == "system":
            continue
        turn: dict[str, Any] = {m.type: str(m.text)}
        made = getattr(m, "tool_calls", None) or []
        calls = [{"name": c["name"], "args": c["args"]} for c in made]
        if calls:
            turn["tool_calls"] = calls
        turns.append(turn)
    return turns


def _answer_dict(answer: AIMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"text": str(answer.text)}
    if answer.tool_calls:
        out["tool_calls"] = [
            {"name": c["name"], "args": c["args"], "id": c.get("id")} for c in answer.tool_calls
        ]
    if answer.usage_metadata:
        out["usage"] = dict(answer.usage_metadata)
    return out


def _answer_of(data: dict[str, Any]) -> AIMessage:
    calls = [
        {"name": str(c["name"]), "args": dict(c.get("args") or {}), "id": c.get("id")}
        for c in data.get("tool_calls") or []
    ]
    return AIMessage(content=str(data.get("text") or ""), tool_calls=calls)


def _message_key(m: BaseMessage) -> list[Any]:
    calls = [[c["name"], c["args"]] for c in getattr(m, "tool_calls", None) or []]
    return [m.type, m.text, calls]


def _status(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def retry_after(error: BaseException, now: float | None = None) -> float | None:
    """Seconds the server asked to wait (`Retry-After`: seconds or an HTTP date;
    `retry-after-ms`), or None."""
    headers = getattr(getattr(error, "response", None), "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


class ModelCaller:
    """Sends one conversation to the bound model: from the cache, or with retries.

    Args:
        bound: The model bound to the tools.
        info: What the model is (part of the cache key).
        tools: The tool schemas sent (part of the cache key).
        cache: Where responses are kept (None: no cache).
        cassette: Where the answers are recorded and replayed (`--cassette`); used
            instead of `cache`.
        max_retries: Attempts after the first, for 429 and 5xx answers.
        backoff: Seconds before the first retry; doubled each time (a `Retry-After`
            header wins, up to `max_wait`).
        secrets: Values never to show in a case's error text.
    """

    def __init__(
        self,
        bound: Any,
        info: ModelInfo,
        tools: Sequence[dict[str, Any]],
        *,
        cache: ResponseCache | None = None,
        cassette: ModelCassette | None = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        secrets: Sequence[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bound = bound
        self.info = info
        self.cache = cache if not info.local and cassette is None else None
        self.cassette = cassette if not info.local else None
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.secrets = [s for s in secrets if s]
        self.sleep = sleep
        self.stats = CallStats()
        self._tools = json.dumps(list(tools), sort_keys=True, default=str)

    def key(self, messages: Sequence[BaseMessage]) -> str:
        """The cache key: provider, model, base URL, temperature, tools and messages."""
        data = [
            1,
            self.info.provider,
            self.info.name,
            self.info.base_url,
            self.info.temperature,
            self._tools,
            [_message_key(m) for m in messages],
        ]
        text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def invoke(self, messages: Sequence[BaseMessage], *, use_cache: bool = True) -> AIMessage:
        """The model's answer to `messages`.

        Raises:
            CaseError: the call failed, or kept failing with 429/5xx after the retries.
        """
        if self.cassette is not None:
            answer, replayed = self.cassette.answer(
                self.key(messages), messages, self.info.label, lambda: self._send(list(messages))
            )
            if replayed:
                with self.stats.lock:
                    self.stats.cached += 1
            return answer
        cache = self.cache if use_cache else None
        key = self.key(messages) if cache is not None else ""
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                with self.stats.lock:
                    self.stats.cached += 1
                return hit
        answer = self._send(list(messages))
        if cache is not None:
            cache.put(key, answer)
        return answer

    def _send(self, messages: list[BaseMessage]) -> AIMessage:
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                answer = self.bound.invoke(messages)
            except Exception as e:
                status = _status(e)
                if status in _RETRY_STATUSES and attempt < self.max_retries:
                    asked = retry_after(e)
                    wait = asked if asked is not None else self.backoff * 2**attempt
                    attempt += 1
                    with self.stats.lock:
                        self.stats.retries += 1
                    self.sleep(min(wait, self.max_wait))
                    continue
                with self.stats.lock:
                    self.stats.errors += 1
                raise CaseError(self._describe(e, status, attempt)) from None
            elapsed = (time.perf_counter() - start) * 1000
            message = answer if isinstance(answer, AIMessage) else AIMessage(content=str(answer))
            usage: dict[str, Any] = dict(message.usage_metadata or {})
            with self.stats.lock:
                self.stats.calls += 1
                self.stats.latencies_ms.append(elapsed)
                self.stats.input_tokens += int(usage.get("input_tokens") or 0)
                self.stats.output_tokens += int(usage.get("output_tokens") or 0)
            return message

    def _describe(self, error: BaseException, status: int | None, attempts: int) -> str:
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        where = f"HTTP {status}" if status is not None else type(error).__name__
        tried = f" after {attempts + 1} attempts" if attempts else ""
        return f"{where}{tried}: {text[:300]}" if text else f"{where}{tried}"


def model_secrets(model: BaseChatModel) -> list[str]:
    """The model's own secret values (API keys), to keep out of error texts."""
    found: list[str] = []
    for value in vars(model).values():
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    return found
