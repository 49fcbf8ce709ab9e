"""langchain-apiactions: declare REST API actions in YAML/JSON, get safe LangChain tools."""

import importlib as _importlib
import typing as _typing

from langchain_apiactions.errors import (
    ActionCallError,
    ActionConfigError,
    AddressRefusedError,
    ApiActionError,
    ArgumentError,
    MissingContextError,
    MissingSecretError,
    ModelSpecError,
    SessionStoreError,
)
from langchain_apiactions.redact import ShortSecretWarning

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "ActionArtifact",
    "ActionCallError",
    "ActionConfigError",
    "ActionSelectionMiddleware",
    "AddressRefusedError",
    "ApiAction",
    "ApiActionError",
    "ApiActionTool",
    "ApiActionsToolkit",
    "ArgumentError",
    "ArtifactButton",
    "ArtifactRequest",
    "ArtifactView",
    "BaseSessionStore",
    "EvalResult",
    "MissingContextError",
    "MissingSecretError",
    "ModelSpecError",
    "NetworkPolicy",
    "OfflineChatModel",
    "RedisSessionStore",
    "SessionStore",
    "SessionStoreError",
    "ShortSecretWarning",
    "SqliteSessionStore",
    "check_actions",
    "create_api_actions_agent",
    "evaluate",
    "last_turn_actions",
    "load_actions",
]
__version__ = "0.1.0"

# The errors load at once, everything else on first use. The file format (config) needs no
# LangChain but builds its pydantic models (~150 ms), which `apiactions --help` never
# needs; the tools pull in `langchain_core` and the HTTP stack, the agent helper and the
# offline model LangChain's chat-model machinery (hundreds of milliseconds each). So
# `--help` starts faster than `import requests, yaml, pydantic`, and `validate` about as
# fast (docs/performance.md, row 6).
_LAZY = {
    "ApiAction": "langchain_apiactions.config",
    "check_actions": "langchain_apiactions.config",
    "load_actions": "langchain_apiactions.config",
    "ActionArtifact": "langchain_apiactions.result",
    "ArtifactButton": "langchain_apiactions.result",
    "ArtifactRequest": "langchain_apiactions.result",
    "ArtifactView": "langchain_apiactions.result",
    "ApiActionTool": "langchain_apiactions.tool",
    "ApiActionsToolkit": "langchain_apiactions.toolkit",
    "NetworkPolicy": "langchain_apiactions.network",
    "BaseSessionStore": "langchain_apiactions.session_store",
    "SessionStore": "langchain_apiactions.session_store",
    "SqliteSessionStore": "langchain_apiactions.session_store",
    "RedisSessionStore": "langchain_apiactions.session_store",
    "ActionSelectionMiddleware": "langchain_apiactions.agent_selection",
    "DEFAULT_SYSTEM_PROMPT": "langchain_apiactions.agent",
    "create_api_actions_agent": "langchain_apiactions.agent",
    "last_turn_actions": "langchain_apiactions.agent",
    "OfflineChatModel": "langchain_apiactions.offline_model",
    "EvalResult": "langchain_apiactions.evaluation",
    "evaluate": "langchain_apiactions.evaluation",
}

if _typing.TYPE_CHECKING:
    from langchain_apiactions.agent import (
        DEFAULT_SYSTEM_PROMPT,
        create_api_actions_agent,
        last_turn_actions,
    )
    from langchain_apiactions.agent_selection import ActionSelectionMiddleware
    from langchain_apiactions.config import ApiAction, check_actions, load_actions
    from langchain_apiactions.evaluation import EvalResult, evaluate
    from langchain_apiactions.network import NetworkPolicy
    from langchain_apiactions.offline_model import OfflineChatModel
    from langchain_apiactions.result import (
        ActionArtifact,
        ArtifactButton,
        ArtifactRequest,
        ArtifactView,
    )
    from langchain_apiactions.session_store import (
        BaseSessionStore,
        RedisSessionStore,
        SessionStore,
        SqliteSessionStore,
    )
    from langchain_apiactions.tool import ApiActionTool
    from langchain_apiactions.toolkit import ApiActionsToolkit


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'langchain_apiactions' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
