"""`OfflineChatModel`: a deterministic stand-in chat model for demos, notebooks and tests.

It is **not an LLM**. It picks a tool by lexical overlap between the visitor's words and
each tool's description, pulls input values out of the conversation by type and
description (numbers, `#12345`-style ids, emails, ISO and common written dates, quoted
text, values an input's description lists), asks for a missing required input using its
description, keeps every answer the visitor gave for the action (one per turn or several
at once: "city, Riverside"), and turns tool results into a reply that relays the
triggered response and the fields. Use it to develop and
test action files without an API key; use a real model to judge descriptions for real.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from langchain_apiactions.result import ArtifactView, as_artifact

__all__ = ["ChoiceScore", "OfflineChatModel"]

_PENDING_KEY = "apiactions_pending"
_ASKED_KEY = "apiactions_asked"
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
    return list(_words(text))


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    # Every turn reads the bound tools' descriptions again: their words are cached.
    return tuple(_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


def _strip_dates(text: str) -> str:
    """`text` without the dates in it (so a date's digits are not taken for a number)."""
    text = _ISO_DATE.sub(" ", text)
    text = _RELATIVE_DATE.sub(" ", text)

    def drop(m: re.Match[str]) -> str:
        month = (m[2] if m[1] else m[3]) or ""
        return " " if month.lower() in _MONTHS else m[0]

    return _WRITTEN_DATE.sub(drop, text)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE_DATE = re.compile(
    r"\b(?:(?P<today>today|tonight)|(?P<after>(?:the\s+)?day\s+after\s+tomorrow)"
    r"|(?P<tomorrow>tomorrow)|in\s+(?P<n>\d{1,3}|a|one|two|three)\s+(?P<unit>days?|weeks?)"
    r"|(?P<next_week>next\s+week)"
    r"|(?:(?:next|this|coming|on)\s+)?(?:the\s+)?(?P<weekday>" + "|".join(_WEEKDAYS) + r"))\b",
    re.IGNORECASE,
)
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3}


def _relative_date(text: str, today: dt.date) -> dt.date | None:
    """`today`, `tomorrow`, `in 3 days`, `next week`, `(next|this|on) Tuesday`.

    A weekday, with or without `next`/`this`/`on`, is its first occurrence after today
    (said on a Thursday, "next Tuesday" and "on Tuesday" are both five days later).
    """
    m = _RELATIVE_DATE.search(text)
    if m is None:
        return None
    if m["today"]:
        return today
    if m["after"]:
        return today + dt.timedelta(days=2)
    if m["tomorrow"]:
        return today + dt.timedelta(days=1)
    if m["n"]:
        count = _SMALL_NUMBERS.get(m["n"].lower()) or int(m["n"])
        return today + dt.timedelta(days=count * (7 if m["unit"].lower().startswith("week") else 1))
    if m["next_week"]:
        return today + dt.timedelta(days=7)
    ahead = (_WEEKDAYS.index(m["weekday"].lower()) - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead)


def _parse_date(text: str, today: dt.date) -> str | None:
    m = _ISO_DATE.search(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
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
    relative = _relative_date(text, today)
    return relative.isoformat() if relative is not None else None


_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[.!?]|[^\sA-Za-z]+")
_QUESTION_WORDS = frozenset("what where which who whom whose how why".split())
_INTERJECTIONS = (
    "great perfect cool awesome nice fine good sure alright right actually well oh ah hmm wow"
    " super excellent lovely brilliant sorry wait also i i'm i'd i'll"
).split()
_NOT_NAMES = frozenset(
    [*_WEEKDAYS, *_MONTH_NAMES, *_INTERJECTIONS, "today", "tomorrow", "tonight", "next"]
)
_ANSWER_LEAD = re.compile(
    r"^\s*(?:(?:sure|yes|yeah|ok|okay|of course)\b[,.!]?\s*)?"
    r"(?:(?:it'?s|it is|that'?s|that is|this is|i'?m|i am|my name is|the name is|name is"
    r"|my name'?s|call me|it would be|it'?ll be)(?:\s+|$))?",
    re.IGNORECASE,
)


def _plain_answer(text: str) -> str | None:
    """The visitor's answer to a question, without `It's ...` and the final full stop."""
    answer = _ANSWER_LEAD.sub("", text, count=1).strip().rstrip(".!").strip()
    return answer or None


def name_candidates(text: str, vocabulary: set[str]) -> list[tuple[str, list[str]]]:
    """Runs of capitalised words (`Maria Lopez`, `Riverside`) with the words around them.

    A sentence's first word counts only when it is not a common word or one of the
    actions' own words (`Book`, `When`, `Please` start sentences; `Maria` is a name).
    """
    tokens = _NAME_TOKEN.findall(text)
    found: list[tuple[str, list[str]]] = []
    run: list[int] = []

    def close() -> None:
        if run:
            name = " ".join(tokens[i] for i in run)
            around = tokens[max(run[0] - 3, 0) : run[0]] + tokens[run[-1] + 1 : run[-1] + 3]
            found.append((name, [_stem(w.lower()) for w in around if w[0].isalpha()]))
            run.clear()

    for i, tok in enumerate(tokens):
        lower = tok.lower()
        starts = i == 0 or tokens[i - 1] in (".", "!", "?")
        if (
            tok[0].isupper()
            and lower not in _NOT_NAMES
            and not (
                starts
                and (
                    lower in _STOP
                    or lower in _QUESTION_WORDS
                    or _stem(lower.rstrip("'’s")) in vocabulary
                )
            )
        ):
            run.append(i)
        else:
            close()
    close()
    return found


class ChoiceScore(NamedTuple):
    """One tool's score for a visitor message, and the words that earned it."""

    action: str
    score: float
    words: tuple[str, ...]


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
        """A copy of the model that chooses among `tools`, as any chat model's `bind_tools`.

        Args:
            tools: The tools (LangChain tools, OpenAI tool dicts, functions, models).
            tool_choice: Accepted for compatibility; the model still answers without a
                tool when none matches.
            **kwargs: Accepted for compatibility and ignored.

        Returns:
            The bound model.
        """
        schemas = [convert_to_openai_tool(t)["function"] for t in tools]
        return self.model_copy(update={"tools": schemas})

    @staticmethod
    def pending_action(message: BaseMessage) -> str | None:
        """The action whose input `message` (a reply of this model) asks the visitor for.

        When a required input is missing, the offline model asks for it in plain text, as
        a real model would, and also names the action it is collecting inputs for (in the
        reply's metadata). `evaluate` counts that action as the model's choice.

        Args:
            message: A message of the conversation.

        Returns:
            The action's name, or None for a message that asks for nothing.
        """
        if not isinstance(message, AIMessage):
            return None
        value = message.response_metadata.get(_PENDING_KEY)
        return str(value) if value else None

    # ------------------------------------------------------------------ choosing
    def _matches(self, text: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Each bound tool's score for `text` and the (stemmed) words that matched."""
        docs = {t["name"]: _tool_words(t) for t in self.tools}
        n = max(len(docs), 1)
        query = words(text)
        out: dict[str, tuple[float, tuple[str, ...]]] = {}
        for name, doc in docs.items():
            matched = tuple(dict.fromkeys(w for w in query if w in doc))
            score = sum(math.log(1 + n / sum(1 for d in docs.values() if w in d)) for w in matched)
            out[name] = (round(score, 3), matched)
        return out

    def scores(self, text: str) -> dict[str, float]:
        """Match score of each bound tool for `text` (idf-weighted word overlap).

        Args:
            text: The visitor's message.

        Returns:
            `{tool name: score}` for every bound tool.
        """
        return {name: score for name, (score, _) in self._matches(text).items()}

    def explain(self, text: str, top: int = 3) -> list[ChoiceScore]:
        """The `top` best-scoring tools for `text`, with the words that matched.

        `apiactions eval --explain` prints these for each case: a choice won on one
        shared word (`what`, `won`) is a lexical accident, not a good description.

        Args:
            text: The visitor's message.
            top: How many tools at most.

        Returns:
            The best first, each with its score and the words that matched.
        """
        ranked = sorted(self._matches(text).items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [ChoiceScore(name, score, matched) for name, (score, matched) in ranked[:top]]

    def choose(self, text: str) -> str | None:
        """The tool to call for `text`, or None below the threshold.

        Args:
            text: The visitor's message.

        Returns:
            The best-scoring tool's name, or None when no score reaches `threshold`.
        """
        scores = self.scores(text)
        if not scores:
            return None
        best = max(scores, key=lambda k: scores[k])
        return best if scores[best] >= self.threshold else None

    # ------------------------------------------------------------------ slots
    def extract(
        self,
        tool: dict[str, Any],
        texts: list[str],
        *,
        latest: str,
        answer_for: str | None = None,
    ) -> dict[str, Any]:
        """Values for the tool's inputs found in the visitor's messages (newest first).

        `answer_for` names the input the model just asked for: the visitor's latest
        message is its answer (a plain `Maria Lopez` fills a text input). A shorthand
        for `_collect` over a conversation with one question.

        Args:
            tool: The tool's OpenAI schema (`name`, `description`, `parameters`).
            texts: The visitor's messages, newest first.
            latest: The visitor's latest message.
            answer_for: The input the model just asked for, if any.

        Returns:
            `{input name: value}` for the inputs found, typed as the schema says.
        """
        older = list(reversed(texts[1:] if texts and texts[0] == latest else texts))
        if answer_for is None:
            return self._collect(tool, [_Turn(t, None) for t in [*older, latest]])
        turns = [_Turn(t, None) for t in older] + [_Turn(latest, answer_for)]
        return self._collect(tool, turns)

    def _collect(
        self, tool: dict[str, Any], turns: Sequence[_Turn], context: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Every value the visitor gave for `tool`'s inputs, turn by turn (oldest first).

        A turn that answers a question fills the input asked for (also when the value
        comes with others: "city, Riverside" or "a city bike from Riverside on Friday"
        fill three inputs); a value the visitor gave earlier stays. `context` holds
        the visitor's earlier messages (newest first), before this action's request:
        they only fill what the action's own turns left open, by type or by name.
        """
        props: dict[str, Any] = tool.get("parameters", {}).get("properties", {})
        args: dict[str, Any] = {}
        for turn in turns:
            args.update(self._values_in(tool, turn, args))
        for text in context:
            found = self._values_in(tool, _Turn(text, None, context=True), args)
            args.update({k: v for k, v in found.items() if k not in args})
        return {
            name: [value] if _is_array(props[name]) and not isinstance(value, list) else value
            for name, value in args.items()
        }

    def _values_in(self, tool: dict[str, Any], turn: _Turn, have: dict[str, Any]) -> dict[str, Any]:
        """The values one visitor message gives (`have`: what earlier messages gave)."""
        props: dict[str, Any] = tool.get("parameters", {}).get("properties", {})
        out: dict[str, Any] = {}
        rest = self._typed(props, turn, have, out)
        if turn.context:
            inputs = [n for n, p in props.items() if n not in {**have, **out} and _name_like(n, p)]
            self._names_by_place(tool, inputs, [rest], {**have, **out}, out, fill_rest=True)
            return out
        asked = turn.asked if turn.asked in props else None
        open_text = [
            n
            for n, p in props.items()
            if _kind(p) == "text" and n not in out and (n not in have or n == asked)
        ]
        rest = _take_options(props, open_text, rest, out)
        if asked is None:
            self._request_values(tool, turn.text, rest, {**have, **out}, out)
        else:
            self._answer_values(tool, turn, asked, rest, have, out)
        return out

    def _answer_values(
        self,
        tool: dict[str, Any],
        turn: _Turn,
        asked: str,
        rest: str,
        have: dict[str, Any],
        out: dict[str, Any],
    ) -> None:
        """The answer to the input asked for, and the other answers given with it.

        Several answers at once ("city, Riverside", "a city bike from Riverside"): a
        name that says where it goes goes there, the first piece answers the question,
        the next pieces fill the other open inputs in the order they would be asked.
        """
        props: dict[str, Any] = tool["parameters"]["properties"]
        prop = props[asked]
        hint = _hint(asked, prop)
        text_answer = _kind(prop) == "text" and "email" not in hint and asked not in out
        if text_answer and (_FREE_TEXT.search(hint) or _SEARCH.search(hint)):
            answer = _plain_answer(turn.text)  # a message or a search is the whole text
            if answer is not None:
                out[asked] = answer
            return
        required: list[str] = tool["parameters"].get("required", [])
        others = [
            n
            for n in required
            if n != asked and n not in have and n not in out and _name_like(n, props[n])
        ]
        pieces = self._pieces_by_place(
            tool, others, _pieces(rest, self._vocabulary(tool)), {**have, **out}, out
        )
        rejected = False
        if text_answer and pieces:
            if _options(prop)[1]:
                rejected = True  # not one of the values a closed list allows
            else:
                out[asked] = _clean_answer(pieces.pop(0), _hint_words(asked, prop))
        if asked not in out and not rejected:
            # Not an answer to the question: only a name or a place is taken from it.
            open_names = [n for n in others if n not in out and not _options(props[n])[1]]
            self._names_by_place(tool, open_names, pieces, {**have, **out}, out, fill_rest=True)
            return
        for name in others:
            if pieces and name not in out and not _options(props[name])[1]:
                out[name] = _clean_answer(pieces.pop(0), _hint_words(name, props[name]))

    def _typed(
        self, props: dict[str, Any], turn: _Turn, have: dict[str, Any], out: dict[str, Any]
    ) -> str:
        """Dates, emails, numbers and ids in the message; returns the text without them.

        A date, an email or a number replaces what an earlier message gave (the visitor
        corrected it); an id-like guess fills only an input still open or asked for.
        """
        today = self.today or dt.date.today()
        rest = turn.text
        precise = [n for n, p in props.items() if _kind(p) != "text" or "email" in _hint(n, p)]
        loose = [n for n in props if n not in precise and (n not in have or n == turn.asked)]
        for name in precise + loose:
            prop = props[name]
            value = _typed_value(name, prop, [rest], today)
            if value is None:
                continue
            out[name] = value
            if _kind(prop) == "date":
                rest = _strip_dates(rest)
            elif "email" in _hint(name, prop):
                rest = _EMAIL.sub(" ", rest)
            else:
                rest = re.sub(r"#?\s?" + re.escape(str(value)) + r"\b", " ", rest, count=1)
        return rest

    def _request_values(
        self, tool: dict[str, Any], text: str, rest: str, taken: dict[str, Any], out: dict[str, Any]
    ) -> None:
        """Values in the visitor's request: quoted text, search words, a message, names."""
        props: dict[str, Any] = tool["parameters"]["properties"]
        quoted = _QUOTED.findall(text)
        names = [n for n, p in props.items() if n not in taken and _name_like(n, p)]
        for name, prop in props.items():
            hint = _hint(name, prop)
            if name in taken or _kind(prop) != "text" or "email" in hint or _ID_LIKE.search(hint):
                continue
            value = None
            if quoted:
                value = quoted.pop(0)
            elif _SEARCH.search(hint):
                kept = [w for w in _WORD.findall(text.lower()) if w not in _STOP | _ASKING]
                value = " ".join(kept) or None
            elif _FREE_TEXT.search(hint):
                value = text.strip() or None
            if value is not None:
                out[name] = value
                if name in names:
                    names.remove(name)
        open_names = [n for n in names if n not in out]
        self._names_by_place(tool, open_names, [rest], {**taken, **out}, out, fill_rest=True)

    def _catalogue_words(self) -> set[str]:
        """The words of every bound tool's description and name."""
        return {w for t in self.tools for w in _tool_words(t)}

    def _vocabulary(self, tool: dict[str, Any]) -> set[str]:
        """The words of every bound action and of `tool`'s inputs (not a visitor's answer)."""
        vocabulary = self._catalogue_words()
        for name, prop in tool.get("parameters", {}).get("properties", {}).items():
            vocabulary |= _hint_words(name, prop)
        return vocabulary

    def _names_by_place(
        self,
        tool: dict[str, Any],
        inputs: list[str],
        texts: list[str],
        taken: dict[str, Any],
        out: dict[str, Any],
        *,
        fill_rest: bool,
    ) -> list[str]:
        """Capitalised names and places (`Maria Lopez`, `Riverside`) for text inputs.

        A candidate goes to the input whose name or description shares a word with the
        words around it ("at the Riverside *branch*", "my *name* is ...") or mentions it
        ("e.g. Riverside"); with `fill_rest` the rest fill required inputs in order,
        never optional ones. Returns the names placed.
        """
        if not inputs:
            return []
        props = tool["parameters"]["properties"]
        required = tool["parameters"].get("required", [])
        vocabulary = self._catalogue_words()
        used = {str(v).lower() for v in taken.values()}
        candidates = [
            c
            for text in texts
            for c in name_candidates(text, vocabulary)
            if c[0].lower() not in used
        ]
        hints = {n: set(words(_hint(n, props[n]))) for n in inputs}
        placed: list[str] = []
        rest: list[str] = []
        for name, around in candidates:
            scores = {
                n: len(hints[n] & set(around))
                + (3 if name.lower() in str(props[n].get("description", "")).lower() else 0)
                for n in inputs
                if n not in out
            }
            best = max(scores, key=lambda n: scores[n], default=None)
            if best is not None and scores[best] > 0:
                out[best] = name
                placed.append(name)
            elif name not in rest:
                rest.append(name)
        for n in inputs:
            if fill_rest and n not in out and n in required and rest:
                name = rest.pop(0)
                out[n] = name
                placed.append(name)
        return placed

    def _pieces_by_place(
        self,
        tool: dict[str, Any],
        inputs: list[str],
        pieces: list[str],
        taken: dict[str, Any],
        out: dict[str, Any],
    ) -> list[str]:
        """Place the names that say where they go; the pieces without them."""
        placed = self._names_by_place(tool, inputs, pieces, taken, out, fill_rest=False)
        left: list[str] = []
        for piece in pieces:
            for name in placed:
                piece = re.sub(r"\b" + re.escape(name) + r"\b", " ", piece)
            piece = _trim(piece)
            if piece:
                left.append(piece)
        return left

    # ------------------------------------------------------------------ replies
    def _reply_to_results(self, results: list[ToolMessage]) -> AIMessage:
        parts: list[str] = []
        for msg in results:
            art = as_artifact(msg.artifact)
            parts.append(msg.text if art is None else ArtifactView(art).reply())
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
        # Values come from the messages since the last action ran.
        since = next(
            (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], ToolMessage)),
            -1,
        )
        window = messages[since + 1 :]
        by_name = {t["name"]: t for t in self.tools}

        # Continue a pending question ("what is your order number?") first, unless the
        # visitor asks for something else instead of answering.
        visitor = self._visitor_turns(window)
        pending = visitor[-1][1] if visitor else None
        name = pending if pending in by_name else None
        if name is None:
            name = self.choose(latest)
        else:
            beyond = self._beyond_question(latest, window)
            chosen = self.choose(beyond)
            if chosen not in (None, name) and not self._about(by_name[name], beyond, chosen):
                name = chosen
        if name is None:
            return AIMessage(content=self._fallback())
        tool = by_name[name]
        turns, context = self._conversation(visitor, name)
        args = self._collect(tool, turns, context)
        required = tool.get("parameters", {}).get("required", [])
        missing = [r for r in required if r not in args]
        if missing:
            prop = tool["parameters"]["properties"][missing[0]]
            return AIMessage(
                content=_question(missing[0], prop),
                response_metadata={_PENDING_KEY: name, _ASKED_KEY: missing[0]},
            )
        seed = name + json.dumps(args, sort_keys=True, default=str) + str(len(messages))
        call_id = f"call_{uuid.uuid5(uuid.NAMESPACE_OID, seed).hex[:12]}"
        return AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
        )

    def _asked_by(self, message: AIMessage, prefer: str | None) -> tuple[str | None, str | None]:
        """The action and the input a reply of this model asked the visitor for.

        Read from the reply's metadata, or, when an application kept only the text of
        the conversation, recognised from the question's wording (two actions asking
        the same question: the one `prefer` names, the action talked about before).
        """
        action = self.pending_action(message)
        asked = message.response_metadata.get(_ASKED_KEY)
        if action is not None:
            return action, str(asked) if asked else None
        if message.tool_calls or not str(message.content).startswith("Sure - could you"):
            return None, None
        found = [
            (str(tool["name"]), str(name))
            for tool in self.tools
            for name, prop in tool.get("parameters", {}).get("properties", {}).items()
            if _question(name, prop) == message.content
        ]
        return next((f for f in found if f[0] == prefer), found[0] if found else (None, None))

    def _visitor_turns(self, window: list[BaseMessage]) -> list[tuple[str, str | None, str | None]]:
        """Each visitor message with the action and input the model asked for before it."""
        items: list[tuple[str, str | None, str | None]] = []
        action: str | None = None
        asked: str | None = None
        for m in window:
            if isinstance(m, AIMessage):
                prefer = action or (self.choose(items[-1][0]) if items else None)
                action, asked = self._asked_by(m, prefer)
            elif isinstance(m, HumanMessage):
                items.append((str(m.content), action, asked))
        return items

    def _conversation(
        self, visitor: list[tuple[str, str | None, str | None]], name: str
    ) -> tuple[list[_Turn], list[str]]:
        """The visitor's turns about action `name` (its request, then the answers to its
        questions, oldest first) and the visitor's messages before them (newest first).
        """
        items = list(visitor)
        turns: list[_Turn] = []
        while items:
            text, action, asked = items.pop()
            if action == name:
                turns.insert(0, _Turn(text, asked))
            else:
                turns.insert(0, _Turn(text, None))  # the request that started it
                break
        return turns, [text for text, _, _ in reversed(items)]

    def _beyond_question(self, text: str, window: list[BaseMessage]) -> str:
        """`text` without the words of the question it answers.

        "Riverside station" answers "could you tell me the pick-up station?"; the
        echoed `station` is no request for another action about stations.
        """
        question = _last_ai(window[:-1])
        echo = set(words(str(question.content))) if question is not None else set()
        return " ".join(w for w in _WORD.findall(text.lower()) if _stem(w) not in echo)

    def _about(self, tool: dict[str, Any], text: str, other: str) -> bool:
        """Whether `text` is at least as much about `tool` and its inputs as about `other`.

        "Riverside station" while booking a bike names the booking's station, not a
        new question about stations.
        """
        docs = [set(words(t.get("description", "") + " " + t["name"])) for t in self.tools]
        own = set(words(tool.get("description", "") + " " + tool["name"].replace("_", " ")))
        for name, prop in tool.get("parameters", {}).get("properties", {}).items():
            own |= _hint_words(name, prop)
        query = set(words(text))
        n = max(len(docs), 1)
        mine = sum(math.log(1 + n / max(sum(w in d for d in docs), 1)) for w in query & own)
        return round(mine, 3) >= self.scores(text).get(other, 0.0)

    def _fallback(self) -> str:
        if not self.tools:
            return "I'm an offline stand-in model and have no actions to call."
        names = ", ".join(t["name"].replace("_", " ").lower() for t in self.tools)
        return f"I'm not sure I can help with that here. I can help with: {names}."


@dataclass(frozen=True)
class _Turn:
    """One visitor message and the input of the action the model asked for just before."""

    text: str
    asked: str | None
    context: bool = False


_OPTION_LIST = re.compile(
    r"(?P<marker>\be\.g\.,?|\bfor example,?|\bsuch as|\bone of:?|:)\s*(?P<list>[^.;()]+)",
    re.IGNORECASE,
)
_OPTION_SPLIT = re.compile(r"\s*(?:,|\bor\b|\band\b|/)\s*", re.IGNORECASE)
_PIECE_SPLIT = re.compile(
    r"[,;\n]+|(?<=[^\s.])[.!?]+(?=\s|$)|\s+(?:at|from|in|near|on|for)\s+(?=[A-Z])"
)
_EDGE_FILLER = re.compile(
    r"^(?:(?:at|from|in|near|on|for|to|by|until|till|before|after|with|the|a|an)(?:\s+|$))+"
    r"|(?:(?:^|\s+)(?:please|thanks|thank you|at|from|in|near|on|for|to|by|until|till))+$",
    re.IGNORECASE,
)


def _options(prop: dict[str, Any]) -> tuple[list[str], bool]:
    """The values an input's description lists, and whether the list is closed.

    "The bike type: city, mountain or electric" and "One of: a, b." are closed lists;
    "e.g. Riverside or Downtown" is a list of examples (another value is fine).
    """
    m = _OPTION_LIST.search(str(prop.get("description") or ""))
    if m is None:
        return [], False
    items = [i.strip() for i in _OPTION_SPLIT.split(m["list"])]
    options = [i for i in items if i and len(i.split()) <= 3]
    closed = m["marker"].rstrip(":").strip().lower() in ("", "one of")
    return options, closed and bool(options)


def _take_options(props: dict[str, Any], names: list[str], text: str, out: dict[str, Any]) -> str:
    """Fill inputs whose listed values the message names; returns the text without them."""
    for name in names:
        options, _ = _options(props[name])
        for option in sorted(options, key=len, reverse=True):
            m = re.search(r"(?<!\w)" + re.escape(option) + r"(?!\w)", text, re.IGNORECASE)
            if m:
                out[name] = option
                text = text[: m.start()] + " " + text[m.end() :]
                break
    return text


def _trim(piece: str) -> str:
    """A piece of an answer without `It's`, edge prepositions, `please` and punctuation."""
    piece = _ANSWER_LEAD.sub("", piece.strip(), count=1)
    piece = " ".join(piece.split()).strip(" ,.;:!?-")
    previous = None
    while previous != piece:
        previous = piece
        piece = _EDGE_FILLER.sub("", piece).strip(" ,.;:!?-")
    return piece


def _pieces(text: str, vocabulary: set[str]) -> list[str]:
    """The answers in one message: "city, Riverside" and "a bike from Riverside" are two.

    When there are several, pieces made only of the actions' own words ("a bike") are
    filler, not answers.
    """
    pieces = [p for p in (_trim(part) for part in _PIECE_SPLIT.split(text)) if words(p)]
    if len(pieces) > 1:
        pieces = [p for p in pieces if not set(words(p)) <= vocabulary] or pieces[:1]
    return pieces


def _hint_words(name: str, prop: dict[str, Any]) -> set[str]:
    return set(words(_hint(name, prop)))


def _tool_words(tool: dict[str, Any]) -> set[str]:
    """The words of a bound tool's description and of its name."""
    return set(words(tool.get("description", "") + " " + tool["name"].replace("_", " ")))


def _clean_answer(piece: str, hint_words: set[str]) -> str:
    """`mountain bike` for a bike type is `mountain`; `Riverside station` is `Riverside`."""
    tokens = piece.split()
    while len(tokens) > 1 and _stem(tokens[-1].lower()) in hint_words:
        tokens.pop()
    while len(tokens) > 1 and _stem(tokens[0].lower()) in hint_words:
        tokens.pop(0)
    return " ".join(tokens)


def _hint(name: str, prop: dict[str, Any]) -> str:
    return f"{name} {prop.get('description', '')}".lower()


def _name_like(name: str, prop: dict[str, Any]) -> bool:
    """A text input that a name or a place fills (not an email, id, search or message)."""
    hint = _hint(name, prop)
    return (
        _kind(prop) == "text"
        and "email" not in hint
        and not _ID_LIKE.search(hint)
        and not _SEARCH.search(hint)
        and not _FREE_TEXT.search(hint)
    )


def _typed_value(name: str, prop: dict[str, Any], texts: list[str], today: dt.date) -> Any:
    """A value recognised by its type: a date, an email, a number, an id (newest first)."""
    kind = _kind(prop)
    hint = _hint(name, prop)
    for text in texts:
        value: Any = None
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
                value = (float(found[0]) if "." in found[0] else int(found[0])) if found else None
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
            return value
    return None


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
    return prop.get("type") == "array" or any(
        n.get("type") == "array" for n in prop.get("anyOf", [])
    )


def _last_ai(messages: list[BaseMessage]) -> AIMessage | None:
    """The model's last reply in `messages`."""
    return next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)


def _question(name: str, prop: dict[str, Any]) -> str:
    description = str(prop.get("description") or name.replace("_", " "))
    description = re.sub(r"\s*\(a date, YYYY-MM-DD\)", "", description)
    text = re.sub(
        r"^(the )?visitor'?s\b", "your", description.strip().rstrip("."), flags=re.IGNORECASE
    )
    if not text.lower().startswith(("your", "the", "a ", "an ")):
        text = "the " + text[0].lower() + text[1:]
    return f"Sure - could you tell me {text[0].lower() + text[1:]}?"
