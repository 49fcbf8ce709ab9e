"""Running the agent with several workers: a graph factory for LangGraph's server, and
checkpointers from URLs.

`langgraph.json` (served by `langgraph dev`, `langgraph up` or LangGraph Platform):

```json
{"dependencies": ["."], "graphs": {"agent": "langchain_apiactions.langgraph_server:make_graph"}}
```

The factory reads its settings from environment variables:

- `APIACTIONS_FILE` (required): the action file.
- `APIACTIONS_MODEL`: `offline`, `openai:<model>` or any `provider:model` that LangChain's
  `init_chat_model` knows (default `offline`).
- `APIACTIONS_SESSION_STORE`: where once-per-session calls are recorded, shared by every
  worker: `redis://host:6379/0` (several machines) or `sqlite:///file.db` (one machine).
- `APIACTIONS_CHECKPOINTER`: only outside LangGraph's server (which keeps conversations
  itself): `sqlite:///file.db`, `postgresql://...` (extra `postgres`) or `memory://`.
- `APIACTIONS_ALLOW_HOSTS`, `APIACTIONS_ALLOW_NETWORKS` (comma-separated) and
  `APIACTIONS_ALLOW_PRIVATE_NETWORKS=1`: the network policy.
- `APIACTIONS_SYSTEM_PROMPT`: replaces the default system prompt.

The trusted context (`{context.NAME}`) comes with each run:
`client.runs.wait(thread_id, "agent", input=..., context={"customer_id": "C-7"})`.
Whoever can call the server chooses it: keep the server behind your backend.
"""

from __future__ import annotations

import difflib
import os
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from langchain_apiactions.errors import ServerSettingsError

__all__ = ["ServerSettings", "ServerSettingsError", "checkpointer_from_url", "make_graph"]


def checkpointer_from_url(url: str) -> Any:
    """A LangGraph checkpointer for `sqlite:///file.db`, `postgresql://...` or `memory://`.

    SQLite needs `langgraph-checkpoint-sqlite` (extra `sqlite`), Postgres
    `langgraph-checkpoint-postgres` (extra `postgres`). The tables are created if missing.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        return InMemorySaver()
    if scheme == "sqlite":
        try:
            from langgraph.checkpoint.sqlite import SqliteSaver
        except ImportError as e:
            msg = "a sqlite:/// checkpointer needs: pip install 'langchain-apiactions[sqlite]'"
            raise ServerSettingsError(msg) from e
        rest = url[len("sqlite:") :]
        if not rest.startswith("///") or len(rest) == 3:
            msg = f"checkpointer {url!r}: expected sqlite:///path/to/file.db"
            raise ServerSettingsError(msg)
        path = Path(rest[3:])
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        saver = SqliteSaver(conn)
        saver.setup()
        return saver
    if scheme in ("postgres", "postgresql"):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg import Connection
            from psycopg.rows import dict_row
        except ImportError as e:
            msg = "a postgresql:// checkpointer needs: pip install 'langchain-apiactions[postgres]'"
            raise ServerSettingsError(msg) from e
        conn_pg: Any = Connection.connect(
            url, autocommit=True, prepare_threshold=0, row_factory=dict_row
        )
        pg_saver = PostgresSaver(conn_pg)
        pg_saver.setup()
        return pg_saver
    msg = f"checkpointer {url.split('@')[-1]!r}: expected sqlite:///file.db, postgresql://..."
    raise ServerSettingsError(msg)


class ServerSettings:
    """The factory's settings, read from environment variables (see the module doc)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ if env is None else env)
        file = env.get("APIACTIONS_FILE", "").strip()
        if not file:
            msg = "APIACTIONS_FILE is not set: the action file the agent serves"
            raise ServerSettingsError(msg)
        self.file = file
        self.model = env.get("APIACTIONS_MODEL", "").strip() or "offline"
        self.session_store = env.get("APIACTIONS_SESSION_STORE", "").strip() or None
        self.checkpointer = env.get("APIACTIONS_CHECKPOINTER", "").strip() or None
        self.allowed_hosts = _split(env.get("APIACTIONS_ALLOW_HOSTS", ""))
        self.allowed_networks = _split(env.get("APIACTIONS_ALLOW_NETWORKS", ""))
        self.allow_private_networks = env.get(
            "APIACTIONS_ALLOW_PRIVATE_NETWORKS", ""
        ).strip().lower() in ("1", "true", "yes")
        self.system_prompt = env.get("APIACTIONS_SYSTEM_PROMPT") or None

    def chat_model(self) -> Any:
        """The model `APIACTIONS_MODEL` names.

        Raises:
            ServerSettingsError: for a name that is no model (a misspelt `offline`, a
                name LangChain's `init_chat_model` cannot place), with the valid forms.
        """
        if self.model == "offline":
            from langchain_apiactions.offline_model import OfflineChatModel

            return OfflineChatModel()
        unknown = (
            f"APIACTIONS_MODEL: unknown model {self.model!r}{model_hint(self.model)}: use "
            "offline, openai:<model>, or provider:model as LangChain's init_chat_model knows it"
        )
        if model_hint(self.model):
            raise ServerSettingsError(unknown)
        from langchain.chat_models import init_chat_model

        try:
            return init_chat_model(self.model, temperature=0)
        except ValueError as e:  # "Unable to infer model provider", "Unsupported provider"
            raise ServerSettingsError(unknown) from e


def model_hint(spec: str, names: tuple[str, ...] = ("offline",)) -> str:
    """` (did you mean 'offline'?)` for a misspelt model name, else empty."""
    provider, colon, _ = spec.partition(":")
    if colon:
        close = difflib.get_close_matches(provider, ["openai"], n=1, cutoff=0.8)
        return (
            f" (did you mean 'openai:{spec.partition(':')[2]}'?)"
            if close and provider != "openai"
            else ""
        )
    close = difflib.get_close_matches(spec, list(names), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


_lock = threading.Lock()
_graphs: dict[tuple[Any, ...], Any] = {}


def build_graph(settings: ServerSettings, *, under_server: bool) -> Any:
    """The agent for `settings`; `under_server=True` leaves persistence to LangGraph."""
    from langchain_apiactions.agent import create_api_actions_agent

    if under_server:
        checkpointer: Any = False  # LangGraph's server keeps the conversations
    elif settings.checkpointer:
        checkpointer = checkpointer_from_url(settings.checkpointer)
    else:
        checkpointer = None
    options: dict[str, Any] = {
        "allowed_hosts": settings.allowed_hosts,
        "allowed_networks": settings.allowed_networks,
        "allow_private_networks": settings.allow_private_networks,
    }
    if settings.session_store:
        options["session_store"] = settings.session_store
    return create_api_actions_agent(
        settings.chat_model(),
        Path(settings.file),
        checkpointer=checkpointer,
        system_prompt=settings.system_prompt,
        **options,
    )


def make_graph() -> Any:
    """The graph LangGraph's server loads (`langchain_apiactions.langgraph_server:make_graph`).

    Built once per worker process and reused by every run. Under the server the graph
    has no checkpointer of its own (the server keeps the conversations) unless
    `APIACTIONS_CHECKPOINTER` asks for one.
    """
    settings = ServerSettings()
    under_server = settings.checkpointer is None and _under_langgraph_server()
    key = (
        settings.file,
        settings.model,
        settings.session_store,
        settings.checkpointer,
        tuple(settings.allowed_hosts),
        tuple(settings.allowed_networks),
        settings.allow_private_networks,
        settings.system_prompt,
        under_server,
    )
    with _lock:
        graph = _graphs.get(key)
        if graph is None:
            graph = _graphs[key] = build_graph(settings, under_server=under_server)
        return graph


def _under_langgraph_server() -> bool:
    # LangGraph's server (`langgraph dev`, `langgraph up`, the Platform) imports its
    # `langgraph_api` package before it loads the graphs.
    return "langgraph_api" in sys.modules
