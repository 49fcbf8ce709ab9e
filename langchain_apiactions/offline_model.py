"""`OfflineChatModel`: a deterministic stand-in chat model for demos, notebooks and tests.

It is **not an LLM**. It picks a tool by lexical overlap between the visitor's words and
each tool's description, pulls input values out of the conversation by type and
description (numbers, `#12345`-style ids, emails, ISO and common written dates, quoted
text), asks for a missing required input using its description, and turns tool results
into a reply that relays the triggered response and the fields. Use it to develop and
test action files without an API key; use a real model to judge descriptions for real.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from langchain_apiactions.result import ArtifactView, as_artifact

__all__ = ["OfflineChatModel"]

_PENDING_KEY = "apiactions_pending"
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    """
    a an the and or of to for in on at by with when use this action visitor visitors asks ask
    is are be it its their they them wants want also trigger if as from i me my we you your
    can could would please hi hello hey do does did have has any some that there about into
    up out get give tell know need needs like just now so not no yes ok okay thanks thank am
    was were will shall should may might must our us here than then these those provides
    provided order's s
    """.split()
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_HASH_ID = re.compile(r"#\s?([A-Za-z0-9][A-Za-z0-9-]*)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_WRITTEN_DATE = re.compile(
    r"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]+)|([A-Za-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?)"
    r"(?:,?\s+(\d{4}))?\b"
)
# Words of asking for something, not of the thing asked for.
_ASKING = frozenset(
    """
    sell sells selling buy buying find look looking search searching stock stocks carry
    available availability price prices cost costs show offer offers got anything something
    """.split()
)
_FREE_TEXT = re.compile(
    r"description|message|question|summary|subject|detail|issue|comment|note|problem|reason"
)
_SEARCH = re.compile(r"query|search|looking|keyword|term|product")
_ID_LIKE = re.compile(r"number|id\b|_id|code|tracking|reference")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Content words, lightly stemmed."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def _strip_dates(text: str) -> str:
    """`text` without the dates in it (so a date's digits are not taken for a number)."""
    text = _ISO_DATE.sub(" ", text)

    def drop(m: re.Match[str]) -> str:
        month = (m[2] if m[1] else m[3]) or ""
        return " " if month.lower() in _MONTHS else m[0]

    return _WRITTEN_DATE.sub(drop, text)


def _parse_date(text: str, today: dt.date) -> str | None:
    m = _ISO_DATE.search(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    lowered = text.lower()
    if re.search(r"\btoday\b", lowered):
        return today.isoformat()
    if re.search(r"\btomorrow\b", lowered):
        return (today + dt.timedelta(days=1)).isoformat()
    for m in _WRITTEN_DATE.finditer(text):
        day, month = (m[1], m[2]) if m[1] else (m[4], m[3])
        month_no = _MONTHS.get(month.lower())
        if month_no is None:
            continue
        year = int(m[5]) if m[5] else today.year
        try:
            return dt.date(year, month_no, int(day)).isoformat()
        except ValueError:
            continue
    return None


class OfflineChatModel(BaseChatModel):
    """A deterministic, lexical stand-in for an LLM (see the module docstring)."""

    threshold: float = Field(1.0, description="Minimum match score to call a tool.")
    tools: list[dict[str, Any]] = Field(default_factory=list, description="Bound tool schemas.")
    today: dt.date | None = Field(None, description="Fixed 'today' for relative dates.")

    @property
    def _llm_type(self) -> str:
        return "apiactions-offline"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        schemas = [convert_to_openai_tool(t)["function"] for t in tools]
        return self.model_copy(update={"tools": schemas})

    @staticmethod
    def pending_action(message: BaseMessage) -> str | None:
        """The action whose input `message` (a reply of this model) asks the visitor for.

        When a required input is missing, the offline model asks for it in plain text, as
        a real model would, and also names the action it is collecting inputs for (in the
        reply's metadata). `evaluate` counts that action as the model's choice.
        """
        if not isinstance(message, AIMessage):
            return None
        value = message.response_metadata.get(_PENDING_KEY)
        return str(value) if value else None

    # ------------------------------------------------------------------ choosing
    def scores(self, text: str) -> dict[str, float]:
        """Match score of each bound tool for `text` (idf-weighted word overlap)."""
        docs = {
            t["name"]: set(words(t.get("description", "") + " " + t["name"].replace("_", " ")))
            for t in self.tools
        }
        n = max(len(docs), 1)
        query = set(words(text))
        out: dict[str, float] = {}
        for name, doc in docs.items():
            score = 0.0
            for w in query & doc:
                df = sum(1 for d in docs.values() if w in d)
                score += math.log(1 + n / df)
            out[name] = round(score, 3)
        return out

    def choose(self, text: str) -> str | None:
        """The tool to call for `text`, or None below the threshold."""
        scores = self.scores(text)
        if not scores:
            return None
        best = max(scores, key=lambda k: scores[k])
        return best if scores[best] >= self.threshold else None

    # ------------------------------------------------------------------ slots
    def extract(self, tool: dict[str, Any], texts: list[str], *, latest: str) -> dict[str, Any]:
        """Values for the tool's inputs found in the visitor's messages (newest first)."""
        props: dict[str, Any] = tool.get("parameters", {}).get("properties", {})
        today = self.today or dt.date.today()
        args: dict[str, Any] = {}
        quoted = [q for t in texts for q in _QUOTED.findall(t)]
        for name, prop in props.items():
            kind = _kind(prop)
            hint = f"{name} {prop.get('description', '')}".lower()
            value: Any = None
            for text in texts:
                if kind == "date":
                    value = _parse_date(text, today)
                elif "email" in hint:
                    m = _EMAIL.search(text)
                    value = m.group(0) if m else None
                elif kind == "number":
                    m = _HASH_ID.search(text)
                    if m and m.group(1).isdigit():
                        value = int(m.group(1))
                    else:
                        found = _NUMBER.findall(_strip_dates(_EMAIL.sub(" ", text)))
                        value = (
                            (float(found[0]) if "." in found[0] else int(found[0]))
                            if found
                            else None
                        )
                elif _ID_LIKE.search(hint):
                    m = _HASH_ID.search(text)
                    if m:
                        value = m.group(1)
                    else:
                        found = re.findall(
                            r"\b(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]{3,}\b", _EMAIL.sub(" ", text)
                        )
                        value = found[0] if found else None
                if value is not None:
                    break
            if (
                value is None
                and kind == "text"
                and "email" not in hint
                and not _ID_LIKE.search(hint)
            ):
                if quoted:
                    value = quoted.pop(0)
                elif _SEARCH.search(hint):
                    rest = [w for w in _WORD.findall(latest.lower()) if w not in _STOP | _ASKING]
                    value = " ".join(rest) or None
                elif _FREE_TEXT.search(hint):
                    value = latest.strip() or None
            if value is not None:
                args[name] = [value] if prop.get("type") == "array" or _is_array(prop) else value
        return args

    # ------------------------------------------------------------------ replies
    def _reply_to_results(self, results: list[ToolMessage]) -> AIMessage:
        parts: list[str] = []
        for msg in results:
            art = as_artifact(msg.artifact)
            parts.append(str(msg.content) if art is None else ArtifactView(art).reply())
        return AIMessage(content=" ".join(p for p in parts if p))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        trailing: list[ToolMessage] = []
        for m in reversed(messages):
            if isinstance(m, ToolMessage):
                trailing.insert(0, m)
            else:
                break
        if trailing:
            return self._reply_to_results(trailing)
        human = [m for m in messages if isinstance(m, HumanMessage)]
        if not human:
            return AIMessage(content="Hello! How can I help you today?")
        latest = str(human[-1].content)
        texts = [str(m.content) for m in reversed(human)]
        by_name = {t["name"]: t for t in self.tools}

        # Continue a pending question ("what is your order number?") first.
        pending = _pending(messages)
        name = pending if pending in by_name else None
        if name is None or (self.choose(latest) not in (None, name)):
            name = self.choose(latest)
        if name is None:
            return AIMessage(content=self._fallback())
        tool = by_name[name]
        # Values come from the messages since the request began (the latest first).
        args = self.extract(tool, texts, latest=latest)
        required = tool.get("parameters", {}).get("required", [])
        missing = [r for r in required if r not in args]
        if missing:
            prop = tool["parameters"]["properties"][missing[0]]
            return AIMessage(
                content=_question(missing[0], prop), response_metadata={_PENDING_KEY: name}
            )
        seed = name + json.dumps(args, sort_keys=True, default=str) + str(len(messages))
        call_id = f"call_{uuid.uuid5(uuid.NAMESPACE_OID, seed).hex[:12]}"
        return AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
        )

    def _fallback(self) -> str:
        if not self.tools:
            return "I'm an offline stand-in model and have no actions to call."
        names = ", ".join(t["name"].replace("_", " ").lower() for t in self.tools)
        return f"I'm not sure I can help with that here. I can help with: {names}."


def _kind(prop: dict[str, Any]) -> str:
    node = prop
    if "anyOf" in node:
        node = next((n for n in node["anyOf"] if n.get("type") != "null"), node)
    if node.get("type") == "array":
        node = node.get("items", {})
    if node.get("format") == "date":
        return "date"
    if node.get("type") in ("number", "integer"):
        return "number"
    return "text"


def _is_array(prop: dict[str, Any]) -> bool:
    return any(n.get("type") == "array" for n in prop.get("anyOf", []))


def _pending(messages: list[BaseMessage]) -> str | None:
    for m in reversed(messages[:-1]):
        if isinstance(m, AIMessage):
            return OfflineChatModel.pending_action(m)
    return None


def _question(name: str, prop: dict[str, Any]) -> str:
    description = str(prop.get("description") or name.replace("_", " "))
    description = re.sub(r"\s*\(a date, YYYY-MM-DD\)", "", description)
    text = re.sub(
        r"^(the )?visitor'?s\b", "your", description.strip().rstrip("."), flags=re.IGNORECASE
    )
    if not text.lower().startswith(("your", "the", "a ", "an ")):
        text = "the " + text[0].lower() + text[1:]
    return f"Sure - could you tell me {text[0].lower() + text[1:]}?"
