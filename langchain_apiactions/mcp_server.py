"""Serve a toolkit's actions to any MCP client (the `mcp` extra).

Built on the official `mcp` SDK's low-level server, so that every action keeps its own
input schema. A call runs the very same call pipeline (`langchain_apiactions.call`) as
the LangChain tool an agent calls in-process: the text content of the result is the
content the model would read, the structured content is the artifact (both masked by the
pipeline's outcome step), and a call that did not succeed is an MCP tool error
(`isError`), never a crash of the server.

`once_per_session` is keyed by the MCP session: on streamable HTTP the `Mcp-Session-Id`
the server issued (hashed, so the id itself never reaches an API); on stdio the
connection; in stateless HTTP, where the protocol has no session, every call is its own.

Only this module imports `mcp`; the rest of the package works without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import inspect
import ipaddress
import json
import logging
import os
import re
import socket
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio
import mcp.types as mt
from langchain_core.tools import BaseToolkit
from mcp.server.lowlevel import Server
from mcp.server.session import ServerSession
from pydantic import SecretStr

from langchain_apiactions.call import CallInput, CallPipeline
from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import (
    ArgumentsRefusedError,
    MissingSecretError,
    NotConfirmedError,
)
from langchain_apiactions.redact import SecretMasker
from langchain_apiactions.tool import ApiActionTool

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

__all__ = [
    "MCP_SERVER_NAME",
    "ApiActionsMcpServer",
    "HttpAccess",
    "allowed_host_headers",
    "create_mcp_server",
    "run_http",
    "run_stdio",
    "streamable_http_app",
    "tool_annotations",
]

logger = logging.getLogger("langchain_apiactions.mcp")

MCP_SERVER_NAME = "apiactions"
SESSION_HEADER = "mcp-session-id"

_CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {
            "type": "boolean",
            "title": "Run it",
            "description": "Tick to let the action run; nothing is sent otherwise.",
        }
    },
    "required": ["confirm"],
}
_ELICITATION = mt.ClientCapabilities(elicitation=mt.ElicitationCapability())


def tool_annotations(tool: ApiActionTool) -> mt.ToolAnnotations:
    """The MCP hints of one action, from its method and `confirm`."""
    method = tool.action.method.upper()
    return mt.ToolAnnotations(
        title=tool.name,
        readOnlyHint=method in ("GET", "HEAD"),
        destructiveHint=method == "DELETE" or tool.action.confirm,
        # A call sent again with the same idempotency key is done at most once.
        idempotentHint=method in ("GET", "HEAD", "PUT", "DELETE")
        or tool.action.idempotency_key is not None,
        openWorldHint=True,
    )


def _input_schema(tool: ApiActionTool) -> dict[str, Any]:
    schema = tool.tool_call_schema
    assert isinstance(schema, dict)  # the tool's args_schema is its JSON schema
    # The description tidied as pydantic tidied a docstring (what MCP clients got when
    # args_schema was a pydantic model); the tool's own description is as written.
    return {**schema, "description": inspect.cleandoc(schema["description"])}


def _mcp_tool(tool: ApiActionTool) -> mt.Tool:
    return mt.Tool(
        name=tool.name,
        description=tool.description,
        # The same JSON schema the LangChain tool hands to a model.
        inputSchema=_input_schema(tool),
        annotations=tool_annotations(tool),
    )


class _SessionKeys:
    """The `once_per_session` session of an MCP request."""

    def __init__(self) -> None:
        self._per_connection: weakref.WeakKeyDictionary[ServerSession, str] = (
            weakref.WeakKeyDictionary()
        )

    def key(self, session: ServerSession, request: Any) -> str:
        if session.client_params is None:
            # Stateless HTTP: this request's own server session never saw `initialize`.
            # There is no MCP session (a client-sent `Mcp-Session-Id` is not checked by
            # the transport then, so it is ignored): every call is its own session.
            return f"mcp-{uuid.uuid4().hex}"
        headers = getattr(request, "headers", None)
        header = headers.get(SESSION_HEADER) if headers is not None else None
        if header:
            # Streamable HTTP: the id the session manager issued and checks on every
            # request. Hashed: `{session_id}` may be sent to an API, the id must not.
            digest = hashlib.sha256(f"apiactions-mcp:{header}".encode()).hexdigest()
            return f"mcp-{digest[:32]}"
        # stdio (one client per process) or any other connection-bound transport.
        key = self._per_connection.get(session)
        if key is None:
            key = self._per_connection[session] = f"mcp-{uuid.uuid4().hex}"
        return key


def _json_safe(value: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return data


def _result(text: str, artifact: Mapping[str, Any] | None, *, error: bool) -> mt.CallToolResult:
    # A call's text and artifact are masked by the pipeline's outcome step; the server's
    # own texts quote no secret.
    return mt.CallToolResult(
        content=[mt.TextContent(type="text", text=text)],
        structuredContent=None if artifact is None else _json_safe(artifact),
        isError=error,
    )


async def _confirmed(session: ServerSession, tool: ApiActionTool, args: Mapping[str, Any]) -> bool:
    """Ask the user through MCP elicitation; True only for an explicit yes."""
    shown = json.dumps(dict(args), ensure_ascii=False, default=str)
    message = tool.runtime.masker.mask(
        f"Allow the action {tool.name!r}? {tool.description}\nArguments: {shown}"
    )
    try:
        answer = await session.elicit_form(message, _CONFIRM_SCHEMA)
    except Exception as e:  # the client failed to answer: nothing is sent
        logger.warning("%s: the confirmation request failed (%s)", tool.name, type(e).__name__)
        return False
    return answer.action == "accept" and (answer.content or {}).get("confirm") is True


def _declined(pipeline: CallPipeline) -> mt.CallToolResult:
    artifact = pipeline.stopped(NotConfirmedError()).artifact
    text = (
        f"[{pipeline.action.name}] was not called: the user did not confirm it, so nothing "
        "was sent. Do not call it again unless the user asks for it."
    )
    return _result(text, artifact, error=True)


@runtime_checkable
class _Catalogue(Protocol):
    """What the server needs of an `ApiActionsToolkit` (not imported: it imports us)."""

    actions: list[ApiAction]
    runtime: Any  # its `masker` masks the MCP bearer token too

    def get_tool(self, name: str) -> ApiActionTool: ...

    def select_actions(self, text: str, k: int = 8) -> list[str]: ...


FIND_ACTIONS = "find_actions"
CALL_ACTION = "call_action"


def _selection_tools(count: int) -> list[mt.Tool]:
    """The two tools served instead of one per action (`--select K`)."""
    return [
        mt.Tool(
            name=FIND_ACTIONS,
            description=(
                f"Find the actions that fit a request: the {count} best, each with its "
                f"name, description and input schema. Then run one with {CALL_ACTION}."
            ),
            inputSchema={
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "What the user wants, in their words.",
                    }
                },
                "required": ["query"],
            },
            annotations=mt.ToolAnnotations(
                title="Find actions", readOnlyHint=True, idempotentHint=True, openWorldHint=False
            ),
        ),
        mt.Tool(
            name=CALL_ACTION,
            description=(
                f"Run an action found with {FIND_ACTIONS}: its name, and arguments that "
                "follow its input schema."
            ),
            inputSchema={
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The action's name."},
                    "arguments": {
                        "type": "object",
                        "description": "The action's arguments (its input schema).",
                    },
                },
                "required": ["name"],
            },
            annotations=mt.ToolAnnotations(
                title="Call an action", destructiveHint=True, openWorldHint=True
            ),
        ),
    ]


class ApiActionsMcpServer(Server[Any, Any]):
    """The SDK's low-level `Server`, carrying what `run_http` needs to guard it: the
    toolkit's masker (the bearer token is masked like its secrets) and `access`."""

    def __init__(
        self,
        name: str,
        *,
        instructions: str | None,
        masker: SecretMasker,
        access: HttpAccess,
    ) -> None:
        super().__init__(name, instructions=instructions)
        self.masker = masker
        self.access = access
        self.auth_token = _auth_token(access.auth_token_env, masker)


@dataclass(frozen=True)
class HttpAccess:
    """Who may talk to the streamable HTTP transport.

    Attributes:
        allowed_hosts: Host names (with `:port`, or any port when none is given) that
            clients may use besides the bind address (and, for loopback or wildcard
            binds, `localhost`, `127.0.0.1` and `[::1]`). Every other `Host` (a DNS
            rebinding page) gets 421, every other browser `Origin` 403.
        auth_token_env: The environment variable holding the token clients must send
            as `Authorization: Bearer <token>` (401 otherwise); None: no token.
    """

    allowed_hosts: tuple[str, ...] = ()
    auth_token_env: str | None = None


def _auth_token(env_name: str | None, masker: SecretMasker | None) -> SecretStr | None:
    """The bearer token named by `env_name`, learned by `masker` (never shown anywhere)."""
    if env_name is None:
        return None
    value = os.environ.get(env_name, "")
    if not value.strip():
        raise MissingSecretError(
            [f"MCP --auth-token-env {env_name}: the variable is not set (or empty)"]
        )
    if masker is not None:
        masker.learn(value)
    return SecretStr(value)


def create_mcp_server(
    toolkit: BaseToolkit,
    *,
    name: str = MCP_SERVER_NAME,
    context: Mapping[str, Any] | None = None,
    instructions: str | None = None,
    select: int | None = None,
    allowed_hosts: Iterable[str] = (),
    auth_token_env: str | None = None,
) -> ApiActionsMcpServer:
    """A low-level MCP `Server` with one tool per action of `toolkit` (an `ApiActionsToolkit`).

    Run it with `run_stdio`, `run_http`, or your own transport (`server.run(read, write,
    server.create_initialization_options())`). `context` holds the trusted values for
    `{context.NAME}` placeholders (never visible to or chosen by the client).

    With `select=K` it serves two tools instead, for catalogues too large to list:
    `find_actions(query)` (the K best actions: name, description, input schema) and
    `call_action(name, arguments)`, which runs an action exactly as its own tool would
    (the same confirmation, once-per-session session, result and errors).

    Args:
        toolkit: The actions to serve.
        name: The server name shown to clients.
        context: Trusted values for `{context.NAME}`.
        instructions: Told to the client at `initialize`.
        select: Serve `find_actions` and `call_action` for the K best actions.
        allowed_hosts: For `run_http`: more `Host` names clients may use (`HttpAccess`).
        auth_token_env: For `run_http`: the variable holding the bearer token clients
            must send; its value is masked like the toolkit's secrets.

    Raises:
        MissingSecretError: `auth_token_env` names a variable that is not set.
    """
    assert isinstance(toolkit, _Catalogue)
    keys = _SessionKeys()
    trusted = dict(context or {})
    server = ApiActionsMcpServer(
        name,
        instructions=instructions,
        masker=toolkit.runtime.masker,
        access=HttpAccess(tuple(allowed_hosts), auth_token_env),
    )
    known = {a.name for a in toolkit.actions}
    if select is None:
        listed = [_mcp_tool(toolkit.get_tool(a.name)) for a in toolkit.actions]
    else:
        if select < 1:
            msg = f"select must be 1 or more (got {select})"
            raise ValueError(msg)
        listed = _selection_tools(select)

    async def list_tools() -> list[mt.Tool]:
        return list(listed)

    async def run_action(tool_name: str, arguments: dict[str, Any]) -> mt.CallToolResult:
        if tool_name not in known:
            text = (
                f"Unknown action {tool_name!r} (call {FIND_ACTIONS} to find one)."
                if select is not None
                else f"Unknown tool {tool_name!r} (tools: {', '.join(known)})."
            )
            return _result(text, None, error=True)
        tool = toolkit.get_tool(tool_name)
        ctx = server.request_context
        pipeline = tool.pipeline
        call = CallInput(arguments, keys.key(ctx.session, ctx.request), trusted)
        try:
            if tool.action.confirm and ctx.session.check_client_capability(_ELICITATION):
                try:
                    pipeline.parse(arguments)
                except ArgumentsRefusedError:
                    pass  # the call itself tells the model which argument to fix
                else:
                    if not await _confirmed(ctx.session, tool, arguments):
                        return _declined(pipeline)
            outcome = await pipeline.arun(call)
        except Exception as e:  # never a crash of the server, never a secret in a message
            logger.error(
                "%s failed unexpectedly: %s",
                tool_name,
                tool.runtime.masker.mask(f"{type(e).__name__}: {e}"),
            )
            return _result(
                f"[{tool_name}] failed: an internal error ({type(e).__name__}). "
                "Tell the user it could not be done right now.",
                None,
                error=True,
            )
        failed = outcome.status == "error" or not outcome.artifact["ok"]
        return _result(outcome.content, outcome.artifact, error=failed)

    def find_actions(query: str) -> mt.CallToolResult:
        assert select is not None
        found = [toolkit.get_tool(n) for n in toolkit.select_actions(query, k=select)]
        entries = [
            {
                "name": t.name,
                "description": t.description,
                "input_schema": _input_schema(t),
            }
            for t in found
        ]
        text = json.dumps({"actions": entries}, ensure_ascii=False)
        # Descriptions come from the action file (no secret may stand there); masked
        # all the same, as every text leaving the server is.
        masker = found[0].runtime.masker if found else SecretMasker()
        return mt.CallToolResult(
            content=[mt.TextContent(type="text", text=masker.mask(text))],
            structuredContent=masker.mask_data({"actions": entries}),
            isError=False,
        )

    async def call_tool(tool_name: str, arguments: dict[str, Any]) -> mt.CallToolResult:
        if select is None:
            return await run_action(tool_name, arguments)
        if tool_name == FIND_ACTIONS:
            query = arguments.get("query")
            if not isinstance(query, str):
                return _result("query: should be text", None, error=True)
            return find_actions(query)
        if tool_name == CALL_ACTION:
            action, args = arguments.get("name"), arguments.get("arguments") or {}
            if not isinstance(action, str) or not isinstance(args, dict):
                return _result(
                    "name should be an action's name and arguments an object",
                    None,
                    error=True,
                )
            return await run_action(action, args)
        return _result(
            f"Unknown tool {tool_name!r} (tools: {FIND_ACTIONS}, {CALL_ACTION}).",
            None,
            error=True,
        )

    server.list_tools()(list_tools)  # type: ignore[no-untyped-call]
    # The tool validates its own arguments, with the message the model reads in LangChain.
    server.call_tool(validate_input=False)(call_tool)
    return server


async def run_stdio(server: Server[Any, Any]) -> None:
    """Serve `server` over this process's stdin/stdout until the client disconnects."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class _McpEndpoint:
    """The MCP endpoint; with a token, only requests bearing it reach the SDK."""

    def __init__(self, manager: Any, token: SecretStr | None) -> None:
        self.manager = manager
        self._token = None if token is None else token.get_secret_value().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._token is not None and not self._authorized(scope):
            await _unauthorized(send)
            return
        await self.manager.handle_request(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        assert self._token is not None
        given = b""
        for key, value in scope.get("headers") or ():
            if key.lower() == b"authorization":
                scheme, _, token = bytes(value).partition(b" ")
                if scheme.lower() == b"bearer":
                    given = token.strip()
                break
        # Constant time: how long the comparison takes says nothing about the token.
        return hmac.compare_digest(
            hashlib.sha256(given).digest(), hashlib.sha256(self._token).digest()
        ) and bool(given)


async def _unauthorized(send: Send) -> None:
    body = b"Unauthorized: send Authorization: Bearer <token>\n"
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="apiactions-mcp"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_loopback(host: str) -> bool:
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")  # noqa: S104 (recognising it, not binding)


def _with_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def allowed_host_headers(host: str, port: int, extra: Iterable[str] = ()) -> list[str]:
    """The `Host` values a server bound to `host:port` accepts: the bind address with
    the port, the loopback names for loopback (and wildcard) binds, and each of `extra`
    (with its own port, or any port when it names none). Never empty: an empty list
    would turn the SDK's check off."""
    hosts = [_with_port(host, port)] if not _is_wildcard(host) else []
    if _is_loopback(host) or _is_wildcard(host):
        hosts += [_with_port(h, port) for h in ("127.0.0.1", "localhost", "::1")]
    for name in extra:
        name = name.strip()
        if not name:
            continue
        if name.count(":") > 1 and not name.startswith("["):
            name = f"[{name}]"  # a bare IPv6 address, as a Host header spells it
        if re.search(r"(^[^:]+|\]):\d+$", name):
            hosts.append(name)  # with its port: exactly that
        else:
            hosts += [name, f"{name}:*"]  # behind a proxy: on 80/443 (no port) or any
    return list(dict.fromkeys(hosts))


def streamable_http_app(
    server: Server[Any, Any],
    *,
    path: str = "/mcp",
    stateless: bool = False,
    allowed_hosts: list[str] | None = None,
    auth_token: SecretStr | None = None,
) -> Starlette:
    """A Starlette app serving `server` over streamable HTTP at `path`.

    Host and Origin headers are checked against `allowed_hosts` (`Host` values, `:*`
    for any port; default: loopback names on any port), so a web page cannot reach the
    server by DNS rebinding. `run_http` passes the bind address's values
    (`allowed_host_headers`). Pass `allowed_hosts=[]` to turn the check off behind your
    own proxy. With `auth_token`, every request must carry `Authorization: Bearer
    <token>` (compared in constant time; 401 otherwise).
    """
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.applications import Starlette
    from starlette.routing import Route

    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"] if allowed_hosts is None else allowed_hosts
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=bool(hosts),
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts],
    )
    manager = StreamableHTTPSessionManager(
        app=server, stateless=stateless, security_settings=security
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    endpoint = _McpEndpoint(manager, auth_token)
    return Starlette(routes=[Route(path, endpoint=endpoint)], lifespan=lifespan)


async def run_http(
    server: Server[Any, Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/mcp",
    stateless: bool = False,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
    allowed_hosts: Iterable[str] | None = None,
    auth_token_env: str | None = None,
) -> None:
    """Serve `server` over streamable HTTP on `host:port` (port 0: a free port).

    Whatever the bind address, `Host` and `Origin` are checked (DNS rebinding): clients
    may use the bind address with its port, the loopback names for a loopback or
    wildcard bind, and each of `allowed_hosts` (`--allowed-host`). A wildcard bind
    (`0.0.0.0`, `::`) without `allowed_hosts` logs a warning. `auth_token_env` names the
    variable holding the bearer token every request must carry. Both default to what
    `create_mcp_server` (`toolkit.to_mcp_server`) was given. `on_ready` receives the URL
    once the socket listens.

    Raises:
        MissingSecretError: `auth_token_env` names a variable that is not set.
    """
    import uvicorn

    access = server.access if isinstance(server, ApiActionsMcpServer) else HttpAccess()
    masker = server.masker if isinstance(server, ApiActionsMcpServer) else None
    extra = tuple(access.allowed_hosts if allowed_hosts is None else allowed_hosts)
    if auth_token_env is not None:
        token = _auth_token(auth_token_env, masker)
    elif isinstance(server, ApiActionsMcpServer):
        token = server.auth_token
    else:
        token = None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    if _is_wildcard(host) and not extra:
        logger.warning(
            "listening on every address (%s) without --allowed-host: only clients that "
            "address this machine as localhost, 127.0.0.1 or [::1] are accepted; pass "
            "--allowed-host NAME for each name or address other clients use%s",
            host or "*",
            "" if token is not None else ", and --auth-token-env NAME so that only they can",
        )
    app = streamable_http_app(
        server,
        path=path,
        stateless=stateless,
        allowed_hosts=allowed_host_headers(host, bound, extra),
        auth_token=token,
    )
    config = uvicorn.Config(
        app, log_config=None, log_level=log_level, access_log=False, lifespan="on"
    )
    shown = f"[{host}]" if ":" in host else host
    if on_ready is not None:
        on_ready(f"http://{shown}:{bound}{path}")
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def serve(
    server: Server[Any, Any],
    transport: str = "stdio",
    **http_options: Any,
) -> None:
    """Block serving `server` over `transport` (`stdio` or `http`)."""
    if transport == "stdio":
        anyio.run(run_stdio, server)
    elif transport == "http":

        async def _http() -> None:
            await run_http(server, **http_options)

        anyio.run(_http)
    else:
        msg = f"unknown MCP transport {transport!r} (stdio or http)"
        raise ValueError(msg)
