"""langchain-apiactions: declare REST API actions in YAML/JSON, get safe LangChain tools."""

from langchain_apiactions.agent import (
    DEFAULT_SYSTEM_PROMPT,
    create_api_actions_agent,
    last_turn_actions,
)
from langchain_apiactions.config import ApiAction, check_actions, load_actions
from langchain_apiactions.errors import (
    ActionCallError,
    ActionConfigError,
    AddressRefusedError,
    ApiActionError,
    ArgumentError,
    MissingSecretError,
)
from langchain_apiactions.network import NetworkPolicy
from langchain_apiactions.offline_model import OfflineChatModel
from langchain_apiactions.session_store import SessionStore
from langchain_apiactions.tool import ApiActionTool
from langchain_apiactions.toolkit import ApiActionsToolkit

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "ActionCallError",
    "ActionConfigError",
    "AddressRefusedError",
    "ApiAction",
    "ApiActionError",
    "ApiActionTool",
    "ApiActionsToolkit",
    "ArgumentError",
    "MissingSecretError",
    "NetworkPolicy",
    "OfflineChatModel",
    "SessionStore",
    "check_actions",
    "create_api_actions_agent",
    "last_turn_actions",
    "load_actions",
]
__version__ = "0.1.0"
