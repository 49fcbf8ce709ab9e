import langchain_apiactions

EXPECTED = [
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
    "SessionStore",
    "check_actions",
    "load_actions",
]


def test_all_is_pinned_and_sorted() -> None:
    assert langchain_apiactions.__all__ == EXPECTED
    assert sorted(langchain_apiactions.__all__) == langchain_apiactions.__all__
    for name in EXPECTED:
        assert getattr(langchain_apiactions, name) is not None


def test_errors_share_one_root() -> None:
    from langchain_apiactions import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ApiActionError)
