"""`apiactions demo`: the offline demo; and the agent in a terminal with a transcript,
which `apiactions chat` runs too.

Only the command's parser loads with the command line (`--help` and `validate` need no
LangChain): the agent, the toolkit and LangChain load when a chat starts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from langchain_apiactions.cli.options import MODEL_HELP, add_command
from langchain_apiactions.cli.wording import for_cli
from langchain_apiactions.errors import ModelSpecError

if TYPE_CHECKING:
    import argparse

    from langchain_core.language_models import BaseChatModel

    from langchain_apiactions.result import ActionArtifact

__all__ = ["DEMO_SCRIPT", "add_parser", "load_model", "run", "run_chat", "run_demo"]

DEMO_API_KEY = "demo-store-key-7f3a"
STORE_ORIGIN = "https://api.yourstore.com"

# (visitor line, answer to a confirmation question if one comes)
DEMO_SCRIPT: list[tuple[str, str | None]] = [
    ("Hi! Where is my order?", None),
    ("It's #12345", None),
    ("Do you sell running shoes?", None),
    ("My package arrived damaged. Please open a support ticket, my email is ana@example.com", None),
    ("Also sign me up for the newsletter, same email: ana@example.com", None),
    ("Sign me up for the newsletter again please", None),
    ("Please cancel order #12345", "yes"),
]


def add_parser(sub: Any) -> None:
    d = add_command(sub, "demo")
    d.add_argument("--model", default=None, help=MODEL_HELP)
    d.add_argument("--interactive", action="store_true", help="chat yourself instead of the script")


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_demo(model=ns.model, interactive=ns.interactive, out=out)


def load_model(spec: str | None) -> BaseChatModel:
    """`offline` (the default without OPENAI_API_KEY), `offline-semantic` or `openai:<model>`.

    Raises:
        ModelSpecError: for an unknown spec, or when the model's extra is not installed.
    """
    from langchain_apiactions.cli.evaluate import build_model, chat_openai, default_model_spec

    spec = default_model_spec(spec)
    if spec in ("offline", "offline-semantic"):
        return build_model(spec, base_url=None, api_key_env=None)
    if spec.startswith("openai:"):
        return chat_openai()(model=spec.split(":", 1)[1], temperature=0)
    from langchain_apiactions.langgraph_server import model_hint

    hint = model_hint(spec, ("offline", "offline-semantic"))
    msg = f"unknown model {spec!r}{hint}: use offline, offline-semantic or openai:<model>"
    raise ModelSpecError(msg)


def store_actions_text() -> str:
    """The bundled `examples/store_actions.yaml`."""
    from importlib import resources

    return (
        resources.files("langchain_apiactions")
        .joinpath("examples/store_actions.yaml")
        .read_text("utf-8")
    )


class Transcript:
    """Prints a run's stream: visitor, bot, fired actions, HTTP requests, fields."""

    def __init__(
        self, out: TextIO, *, debug: bool = False, received: Callable[[], list[str]] | None = None
    ) -> None:
        self.out = out
        self.debug = debug
        self.closed = False
        self.received = received

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def visitor(self, text: str) -> None:
        self.say(f"\nVisitor: {text}")

    def chunk(self, mode: str, data: Any) -> list[Any]:
        """Print one stream chunk; returns any interrupts."""
        from langchain_core.messages import AIMessage, ToolMessage

        from langchain_apiactions.result import as_artifact

        if (
            mode == "custom"
            and isinstance(data, dict)
            and data.get("event") == "api_action_triggered"
        ):
            said = data["triggered_response"]
            heard = f': "{said}"' if said else ": nothing (no triggered response)"
            self.say(f"  ⚡ {data['action']} fired; the visitor sees at once{heard}")
            return []
        if mode != "updates":
            return []
        interrupts: list[Any] = []
        for node, update in data.items():
            if node == "__interrupt__":
                interrupts.extend(update)
                continue
            for m in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                art = as_artifact(m.artifact) if isinstance(m, ToolMessage) else None
                if art is not None:
                    self.artifact(art)
                elif isinstance(m, AIMessage) and not m.tool_calls and m.content:
                    self.say(f"Bot: {m.content}")
                    meta = m.response_metadata.get("apiactions") or {}
                    if meta.get("close_chat"):
                        self.closed = True
                        self.say("  ✖ chat closed")
        return interrupts

    def artifact(self, art: ActionArtifact) -> None:
        from langchain_apiactions.result import ArtifactView

        lines = ArtifactView(art).lines()
        if self.received is not None and art["request"] is not None:
            # What the API received goes right after the request line.
            lines[1:1] = [f"the API received the JSON body: {b}" for b in self.received()]
        for line in lines:
            self.say(f"  {for_cli(line)}")
        if self.debug:
            self.say("  artifact: " + json.dumps(art, ensure_ascii=False, default=str))


def _turn(
    agent: Any,
    payload: Any,
    config: dict[str, Any],
    transcript: Transcript,
    context: Mapping[str, str] | None = None,
) -> list[Any]:
    interrupts: list[Any] = []
    for mode, data in agent.stream(
        payload, config, stream_mode=["updates", "custom"], context=context
    ):
        interrupts += transcript.chunk(mode, data)
    return interrupts


def converse(
    agent: Any,
    lines: Iterable[tuple[str, str | None]],
    transcript: Transcript,
    *,
    thread_id: str,
    ask: Callable[[str], str] | None = None,
    before_turn: Callable[[str], None] | None = None,
    context: Mapping[str, str] | None = None,
) -> None:
    """Play visitor lines through the agent, answering confirmations.

    `context` is the run's trusted context (`{context.NAME}` values).
    """
    from langgraph.types import Command

    config = {"configurable": {"thread_id": thread_id}}
    for text, confirmation in lines:
        if transcript.closed:
            break
        transcript.visitor(text)
        if before_turn is not None:
            before_turn(text)
        interrupts = _turn(
            agent, {"messages": [{"role": "user", "content": text}]}, config, transcript, context
        )
        while interrupts:
            requests = interrupts[0].value.get("action_requests", [])
            decisions = []
            for req in requests:
                question = (
                    f"Confirm {req['name']} with {json.dumps(req['args'], ensure_ascii=False)}?"
                )
                transcript.say(f"  ? {question} (the agent paused for the visitor)")
                answer = (
                    confirmation if confirmation is not None else (ask(question) if ask else "no")
                )
                transcript.say(f"Visitor: {answer}")
                if answer.strip().lower() in ("y", "yes", "ok", "sure", "confirm"):
                    decisions.append({"type": "approve"})
                else:
                    decisions.append({"type": "reject", "message": "The visitor declined."})
            interrupts = _turn(
                agent, Command(resume={"decisions": decisions}), config, transcript, context
            )


def run_demo(
    *, model: str | None = None, interactive: bool = False, out: TextIO = sys.stdout
) -> int:
    """Serve the demo store on loopback and chat with it (scripted, or `interactive`)."""
    from langchain_apiactions.agent import create_api_actions_agent
    from langchain_apiactions.cli.demo_server import DemoStoreServer
    from langchain_apiactions.config import load_actions
    from langchain_apiactions.toolkit import ApiActionsToolkit

    started = time.monotonic()
    env = {**os.environ, "STORE_API_KEY": DEMO_API_KEY}
    with DemoStoreServer(DEMO_API_KEY) as server:
        actions = load_actions(store_actions_text().replace(STORE_ORIGIN, server.url))
        toolkit = ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"], env=env)
        chat_model = load_model(model)
        agent = create_api_actions_agent(chat_model, toolkit)
        transcript = Transcript(out, received=server.take_bodies)
        transcript.say(f"Demo store API on {server.url} (the API key is sent as Bearer ***)")
        transcript.say(
            f"Model: {type(chat_model).__name__}; actions: {', '.join(a.name for a in actions)}"
        )

        noted: set[str] = set()

        def note_hidden(_: str) -> None:
            store = toolkit.session_store
            for action in toolkit.actions:
                if action.name in noted or not action.once_per_session:
                    continue
                if store.has_run("demo-visitor", action.name):
                    noted.add(action.name)
                    transcript.say(
                        f"  ↷ {action.name} already ran in this session: the agent no longer "
                        "offers it (once per session)"
                    )

        if interactive:
            transcript.say("Type a message (empty line or Ctrl-D to quit).")
            converse(
                agent,
                _stdin_lines(),
                transcript,
                thread_id="demo-visitor",
                ask=_ask,
                before_turn=note_hidden,
            )
        else:
            converse(
                agent, DEMO_SCRIPT, transcript, thread_id="demo-visitor", before_turn=note_hidden
            )
        toolkit.close()
    took = time.monotonic() - started
    transcript.say(f"\nDemo finished in {took:.1f} s; {len(server.requests)} API request(s) made.")
    return 0


def run_chat(
    file: str,
    *,
    model: str | None = None,
    debug: bool = False,
    out: TextIO = sys.stdout,
    context: Mapping[str, str] | None = None,
    state: str | None = None,
    thread_id: str = "cli-chat",
    **toolkit_options: Any,
) -> int:
    """An interactive chat with the agent over your own action file.

    `context` holds the trusted values (`{context.NAME}`) of every turn. `state`
    (`sqlite:///file.db`) keeps the conversation, and which once-per-session actions
    ran, in that file: the next run with the same `state` and `thread_id` resumes it.
    """
    from langchain_apiactions.agent import create_api_actions_agent
    from langchain_apiactions.langgraph_server import checkpointer_from_url
    from langchain_apiactions.toolkit import ApiActionsToolkit

    checkpointer = None
    if state is not None:
        checkpointer = checkpointer_from_url(state)
        # Unless told otherwise, once-per-session records live beside the conversation.
        if state.lower().startswith("sqlite:"):
            toolkit_options.setdefault("session_store", state)
    toolkit = ApiActionsToolkit.from_file(Path(file), **toolkit_options)
    agent = create_api_actions_agent(load_model(model), toolkit, checkpointer=checkpointer)
    transcript = Transcript(out, debug=debug)
    transcript.say(
        f"Chatting over {file} ({len(toolkit.actions)} action(s)). Empty line or Ctrl-D quits."
    )
    if checkpointer is not None:
        config = {"configurable": {"thread_id": thread_id}}
        earlier = agent.get_state(config).values.get("messages", [])
        if earlier:
            transcript.say(
                f"Resuming conversation {thread_id!r} from {state} ({len(earlier)} messages)."
            )
    try:
        converse(
            agent,
            _stdin_lines(),
            transcript,
            thread_id=thread_id,
            ask=_ask,
            context=context or None,
        )
    finally:
        toolkit.close()
        conn = getattr(checkpointer, "conn", None)
        if conn is not None:
            conn.close()
    return 0


def _stdin_lines() -> Iterable[tuple[str, str | None]]:
    while True:
        try:
            text = input("> ")
        except EOFError:
            print()  # end the prompt's line: piped input has no final Enter to show
            return
        if not text.strip():
            return
        yield text, None


def _ask(question: str) -> str:
    try:
        return input(f"{question} [y/N] ")
    except EOFError:
        return "no"
