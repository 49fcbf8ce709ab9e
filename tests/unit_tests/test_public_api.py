import langchain_apiactions

EXPECTED = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert langchain_apiactions.__all__ == EXPECTED
    public = {n for n in vars(langchain_apiactions) if not n.startswith("_") and n[0].isupper()}
    assert public - {"DEFAULT_SYSTEM_PROMPT"} <= set(EXPECTED)
    for name in EXPECTED:
        assert getattr(langchain_apiactions, name) is not None


def test_errors_share_one_root() -> None:
    from langchain_apiactions import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ApiActionError)
