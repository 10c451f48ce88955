"""Connect to MCP servers, list their tools and call them within a time limit and a size cap.

The `mcp` SDK speaks the protocol. Here one connection per server configuration stays open on a
background event loop (a turn's researchers are threads; the SDK is async), every reply is
bounded (a stdio line or an HTTP body past `max_bytes` closes the connection and says so, and a
line on stdout that is not JSON-RPC does the same), and each failure becomes an exception whose
text a person can act on: a server that is down or timed out is worth another try (the gate
retries it), one that answered too much or garbage is not. A caller may pass a `check` that
raises when it must stop waiting (a turn's Stop or clock): the call is then abandoned at once
and cancelled on the loop, and the server is told to stop the tool.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

from crew.redact import redact, remember_secret
from crew.settings import McpServer

Trip = Callable[[str], None]
# Raises when the caller must stop waiting (a turn's Stop or clock: crew.engine.limits.Budget.check);
# the hub lets the exception through unchanged, so the caller's own limit ends its step.
Check = Callable[[], None]
# How often a waiting caller's `check` is asked: Stop is felt within this.
POLL_S = 0.1
# How long an abandoned call may take to wind down (the SDK tells the server it is cancelled)
# before its connection is closed, so the next call opens a new one instead of meeting a wedged one.
ABANDON_S = 3.0


class McpUnavailable(ConnectionError):
    """The server could not be reached or dropped the connection: another try may work."""


class McpTimeout(TimeoutError):
    """The server did not answer in time: another try may work."""


class McpFault(RuntimeError):
    """The server answered, but with something the crew will not use (too large, not MCP, refused)."""


@dataclass(frozen=True)
class McpTool:
    """One tool a server lists: its name, what it says it does, and the JSON schema of its arguments."""

    server: str
    name: str
    description: str
    schema: dict[str, Any]

    @property
    def qualified(self) -> str:
        """The tool's name for the researcher and the trace: server and tool, so two servers never clash."""
        return f"{self.server}.{self.name}"


@dataclass(frozen=True)
class ServerStatus:
    """How a server is doing, as the Settings page and `crew tools` show it."""

    name: str
    transport: str
    where: str  # the command line or the URL, never a secret
    connected: bool
    tools: tuple[McpTool, ...] = ()
    error: str = ""  # why it is not connected
    last_error: str = ""  # the last call of its tools that failed, and why


def mcp_where(config: McpServer) -> str:
    """The command line or the URL of a server, as a person may see it (env and headers are never shown)."""
    if config.transport == "stdio":
        return redact(" ".join([config.command, *config.args]))
    return redact(config.url)


def _key(name: str, config: McpServer, max_bytes: int) -> str:
    # Secrets are part of what a connection is, so they count in its key, hashed.
    raw = config.model_dump(mode="json") | {
        "env": {k: v.get_secret_value() for k, v in config.env.items()},
        "headers": {k: v.get_secret_value() for k, v in config.headers.items()},
    }
    return hashlib.sha256(json.dumps([name, raw, max_bytes], sort_keys=True).encode()).hexdigest()


# Transports ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def bounded_stdio(config: McpServer, max_bytes: int, trip: Trip) -> AsyncIterator[tuple[Any, Any]]:
    """Run a stdio server and exchange JSON-RPC lines with it, no line longer than `max_bytes`.

    The SDK's own stdio transport reads a line of any length; a server answering 100 MB would be
    read whole. This one stops reading at the cap, or at a line that is not JSON-RPC, calls
    `trip(why)`, and closes the connection. The server gets only the SDK's safe environment
    (PATH, HOME, ...) and its own `env`: the app's keys never reach it.
    """
    import subprocess

    import anyio
    from mcp.client.stdio import get_default_environment
    from mcp.shared.message import SessionMessage
    from mcp.types import jsonrpc_message_adapter

    env = get_default_environment() | {k: v.get_secret_value() for k, v in config.env.items()}
    try:
        process = await anyio.open_process([config.command, *config.args], env=env, cwd=config.cwd,
                                           stderr=subprocess.PIPE)
    except OSError as exc:
        raise McpUnavailable(f"cannot start {config.command!r}: {exc.strerror or exc}") from None
    to_session, from_server = anyio.create_memory_object_stream(16)
    to_server, from_session = anyio.create_memory_object_stream(16)
    stderr_tail = bytearray()

    async def read_stdout() -> None:
        buffer = bytearray()
        async with to_session:
            with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                async for chunk in process.stdout:
                    buffer += chunk
                    while (end := buffer.find(b"\n")) >= 0:
                        line = bytes(buffer[:end]).strip()
                        del buffer[:end + 1]
                        if not line:
                            continue
                        try:
                            message = jsonrpc_message_adapter.validate_json(line, by_name=False)
                        except ValueError:
                            trip(f"the server wrote something that is not MCP (JSON-RPC): {_peek(line)}")
                            return
                        await to_session.send(SessionMessage(message))
                    if len(buffer) > max_bytes:
                        trip(f"the server's reply is larger than {max_bytes:,} bytes; not read")
                        return
            if not stderr_tail:
                return
            # The server exited: what it said last on stderr usually says why.
            trip(f"the server exited: {_peek(bytes(stderr_tail[-300:]))}")

    async def read_stderr() -> None:
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            async for chunk in process.stderr:
                stderr_tail.extend(chunk)
                del stderr_tail[:-2000]

    async def write_stdin() -> None:
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async with from_session:
                async for message in from_session:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read_stdout)
        tasks.start_soon(read_stderr)
        tasks.start_soon(write_stdin)
        try:
            yield from_server, to_server
        finally:
            with anyio.CancelScope(shield=True):
                tasks.cancel_scope.cancel()
                with contextlib.suppress(ProcessLookupError, OSError):
                    process.terminate()
                with anyio.move_on_after(2) as waited:
                    await process.wait()
                if waited.cancelled_caught:
                    with contextlib.suppress(ProcessLookupError, OSError):
                        process.kill()
                    await process.wait()
                await process.aclose()


def _peek(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return redact(repr(text[:120] + ("…" if len(text) > 120 else "")))


def capped_http_client(config: McpServer, max_bytes: int, timeout: float, trip: Trip):
    """An HTTP client for the SDK's streamable-HTTP transport that reads no body past `max_bytes`."""
    import httpx2

    class CappedStream(httpx2.AsyncByteStream):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __aiter__(self):
            seen = 0
            async for chunk in self.inner:
                seen += len(chunk)
                if seen > max_bytes:
                    why = f"the server's reply is larger than {max_bytes:,} bytes; not read"
                    trip(why)
                    raise httpx2.ReadError(why)
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    class CappedTransport(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx2.AsyncHTTPTransport(retries=0)

        async def handle_async_request(self, request):
            response = await self.inner.handle_async_request(request)
            return httpx2.Response(response.status_code, headers=response.headers, stream=CappedStream(response.stream),
                                   extensions=response.extensions, request=request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    headers = {k: v.get_secret_value() for k, v in config.headers.items()}
    # No proxy from the environment: the server is the one the person named, reached directly.
    return httpx2.AsyncClient(transport=CappedTransport(), headers=headers, trust_env=False,
                              timeout=httpx2.Timeout(timeout, read=timeout), follow_redirects=False)


@contextlib.asynccontextmanager
async def capped_http(config: McpServer, max_bytes: int, timeout: float, trip: Trip) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's streamable-HTTP transport over a capped client (which the SDK leaves to us to close)."""
    from mcp.client.streamable_http import streamable_http_client

    async with capped_http_client(config, max_bytes, timeout, trip) as http:
        async with streamable_http_client(config.url, http_client=http, max_sse_event_size=max_bytes) as streams:
            yield streams


# Connections ---------------------------------------------------------------------------------


@dataclass
class _Connection:
    name: str
    config: McpServer
    max_bytes: int
    client: Any = None
    tools: tuple[McpTool, ...] = ()
    error: str = ""
    fault: str = ""  # why the transport closed the connection (too large, not MCP), if it did
    opened_ok: bool = False  # it worked once: a later break is the call's, not the server's, so reconnect at once
    opened: float = field(default_factory=time.monotonic)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    def trip(self, why: str) -> None:
        self.fault = self.fault or why
        self.closing.set()

    @property
    def usable(self) -> bool:
        return self.client is not None and not self.gone.is_set() and not self.closing.is_set()


def _tool_of(server: str, tool: Any) -> McpTool:
    schema = tool.input_schema if isinstance(getattr(tool, "input_schema", None), dict) else {}
    description = " ".join(str(tool.description or getattr(tool, "title", "") or "").split())
    return McpTool(server, str(tool.name), description, dict(schema or {"type": "object"}))


class McpHub:
    """The process's MCP connections: one per server configuration, opened on first use and kept.

    Built by the Crew service and passed where tools are bound; it starts its event loop thread
    on first use, never at import. A connection that failed is tried again on the next use, but
    not sooner than `retry_after_s`, so a turn's parallel researchers do not each wait on a dead
    server.
    """

    def __init__(self, retry_after_s: float = 5.0) -> None:
        self.retry_after_s = retry_after_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: dict[str, _Connection] = {}
        self._last_errors: dict[str, str] = {}  # by server name: the last failed call, for the Settings page
        self._abandoned: set[asyncio.Task] = set()  # calls nobody waits for, winding down (held: the loop keeps weak refs)

    # The loop ---------------------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="crew-mcp", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                atexit.register(self.close)  # stdio servers are child processes: stop them with the app
            return self._loop

    def _run(self, coro: Any, timeout: float, check: Check | None = None) -> Any:
        """Run `coro` on the loop and wait for it, asking `check` every POLL_S; whatever `check` raises
        cancels the coroutine (on the loop, without waiting for it) and goes to the caller."""
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())
        backstop = time.monotonic() + timeout + 5  # the coroutine keeps its own time; this is a backstop
        try:
            while True:
                left = backstop - time.monotonic()
                if left <= 0:
                    raise McpTimeout(f"no answer within {timeout:g} s")
                done, _ = concurrent.futures.wait([future], timeout=min(left, POLL_S) if check else left)
                if done:
                    return future.result()
                if check is not None:
                    check()
        except BaseException:
            future.cancel()  # a no-op once it is done
            raise

    def close(self) -> None:
        """Close every connection (stdio servers are stopped) and the loop."""
        if self._loop is None:
            return

        async def shut() -> None:
            for task in list(self._abandoned):
                task.cancel()
            for conn in list(self._connections.values()):
                conn.closing.set()
                if not conn.ready.is_set() and conn.task is not None:
                    conn.task.cancel()  # still shaking hands, not yet waiting on `closing`: its server is stopped all the same
            tasks = [c.task for c in self._connections.values() if c.task is not None]
            if tasks:
                await asyncio.wait(tasks, timeout=5)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop, self._thread = None, None
        self._connections.clear()

    # Connecting -------------------------------------------------------------------------------

    async def _serve(self, conn: _Connection, timeout: float) -> None:
        """Hold one connection open until it is closed or breaks: the SDK's contexts live in one task."""
        from mcp import Client

        for secret in [*conn.config.env.values(), *conn.config.headers.values()]:
            remember_secret(secret.get_secret_value())  # so no error, log or trace can quote it
        try:
            if conn.config.transport == "stdio":
                transport = bounded_stdio(conn.config, conn.max_bytes, conn.trip)
            else:
                transport = capped_http(conn.config, conn.max_bytes, timeout, conn.trip)
            async with Client(transport, cache=None) as client:
                tools: list[McpTool] = []
                cursor = None
                for _ in range(20):  # pages of the listing; a server that pages forever is cut short
                    page = await client.list_tools(cursor=cursor)
                    tools += [_tool_of(conn.name, t) for t in page.tools]
                    cursor = page.next_cursor
                    if not cursor:
                        break
                allowed = conn.config.tools
                conn.tools = tuple(t for t in tools if allowed is None or t.name in allowed)
                conn.client, conn.opened_ok = client, True
                conn.ready.set()
                await conn.closing.wait()
        except asyncio.CancelledError:
            conn.error = conn.error or conn.fault or f"no answer within {timeout:g} s"
        except BaseException as exc:  # noqa: BLE001 - whatever broke the connection is its status
            conn.error = conn.fault or _explain(exc)
        finally:
            conn.client = None
            conn.error = conn.error or conn.fault or ("closed" if conn.closing.is_set() else "the connection ended")
            conn.gone.set()
            conn.ready.set()

    async def _connection(self, name: str, config: McpServer, timeout: float, max_bytes: int) -> _Connection:
        key = _key(name, config, max_bytes)
        conn = self._connections.get(key)
        if conn is not None and (conn.usable or not conn.ready.is_set()):
            pass
        elif conn is not None and not conn.opened_ok and time.monotonic() - conn.opened < self.retry_after_s:
            raise McpUnavailable(conn.error)
        else:
            conn = self._connections[key] = _Connection(name, config, max_bytes)
            conn.task = asyncio.get_running_loop().create_task(self._serve(conn, timeout))
        try:
            await asyncio.wait_for(asyncio.shield(conn.ready.wait()), timeout)
        except TimeoutError:
            conn.error = f"no answer within {timeout:g} s"
            conn.closing.set()
            if conn.task is not None:
                conn.task.cancel()
            raise McpTimeout(conn.error) from None
        if not conn.usable:
            raise (McpFault if conn.fault else McpUnavailable)(conn.error)
        return conn

    def tools(self, name: str, config: McpServer, *, timeout: float, max_bytes: int,
              check: Check | None = None) -> tuple[McpTool, ...]:
        """The tools a server lists (connecting if need be); raises McpUnavailable, McpTimeout or McpFault."""

        async def listed() -> tuple[McpTool, ...]:
            return (await self._connection(name, config, timeout, max_bytes)).tools

        return self._run(listed(), timeout, check)

    def status(self, servers: dict[str, McpServer], *, timeout: float, max_bytes: int,
               check: Check | None = None) -> list[ServerStatus]:
        """Each server's state, connecting to those not yet connected (all at once); a connection still
        opening when `check` raises goes on opening for the next caller."""

        async def one(name: str, config: McpServer) -> ServerStatus:
            try:
                conn = await self._connection(name, config, timeout, max_bytes)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                return ServerStatus(name, config.transport, mcp_where(config), False, error=_explain(exc),
                                    last_error=self._last_errors.get(name, ""))
            return ServerStatus(name, config.transport, mcp_where(config), True, conn.tools,
                                last_error=self._last_errors.get(name, ""))

        async def every() -> list[ServerStatus]:
            return list(await asyncio.gather(*(one(n, c) for n, c in servers.items())))

        return self._run(every(), timeout, check) if servers else []

    # Calling ----------------------------------------------------------------------------------

    def call(self, name: str, config: McpServer, tool: str, arguments: dict[str, Any], *, timeout: float,
             max_bytes: int, check: Check | None = None) -> Any:
        """Call one tool and return the SDK's CallToolResult.

        Raises McpTimeout when the server does not answer within `timeout` seconds,
        McpUnavailable when it cannot be reached or dropped the connection, McpFault when it
        answered too much, not MCP, or refused the call at the protocol level. Whatever `check`
        raises while the call is in flight abandons it (see `_abandon`) and is raised as is.
        """

        async def called() -> Any:
            from mcp import MCPError

            started = time.monotonic()
            conn = await self._connection(name, config, timeout, max_bytes)
            left = max(0.1, timeout - (time.monotonic() - started))
            call = asyncio.ensure_future(conn.client.call_tool(tool, arguments))
            gone = asyncio.ensure_future(conn.gone.wait())
            closing = asyncio.ensure_future(conn.closing.wait())
            try:
                done, _ = await asyncio.wait({call, gone, closing}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                self._abandon(conn, call)  # the caller stopped waiting
                raise
            finally:
                for task in (gone, closing):
                    task.cancel()
            if call not in done:
                call.cancel()
                if conn.fault:
                    raise McpFault(conn.fault)
                if done:
                    raise McpUnavailable(conn.error or "the server closed the connection")
                raise McpTimeout(f"no answer within {timeout:g} s")
            try:
                return call.result()
            except Exception as exc:
                if conn.fault:
                    raise McpFault(conn.fault) from None
                if isinstance(exc, MCPError) and exc.code == -32000 or isinstance(exc, (OSError, EOFError)):
                    conn.closing.set()  # broken: the next try connects anew
                    raise McpUnavailable(_explain(exc)) from None
                raise McpFault(f"the server refused the call: {_explain(exc)}") from None

        try:
            return self._run(called(), timeout, check)
        except (McpFault, McpTimeout, McpUnavailable) as exc:
            self._last_errors[name] = f"{time.strftime('%H:%M:%S')} {tool}: {_explain(exc)}"
            raise

    def _abandon(self, conn: _Connection, call: asyncio.Future) -> None:
        """Cancel a call nobody waits for any more; close its connection if the call will not end.

        Cancelling the SDK's request sends the server `notifications/cancelled` (its tool stops) and
        drops a late reply, so the session stays usable. A call still not over after ABANDON_S (a
        server that does not read what it is sent) marks the connection broken: the next call opens
        a new one rather than queueing behind it.
        """
        call.cancel()

        async def wind_down() -> None:
            done, _ = await asyncio.wait({call}, timeout=ABANDON_S)
            if done and not call.cancelled():
                call.exception()  # a late reply or failure is nobody's news: taken, so asyncio does not log it
            if not done:
                conn.error = conn.error or "an abandoned call did not end; connecting anew"
                conn.closing.set()

        task = asyncio.get_running_loop().create_task(wind_down())
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)


def _explain(exc: BaseException) -> str:
    """One line on what broke, from an exception or the first of an exception group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, (McpUnavailable, McpTimeout, McpFault)):
        return redact(str(exc))
    text = " ".join(str(exc).split())[:240]
    cause = exc.__cause__ or exc.__context__
    if not text and cause is not None:
        return _explain(cause)
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
