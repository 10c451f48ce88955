"""Bind a workspace's MCP servers as researcher tools: the model's argument checked against each
tool's input schema before the call, and the reply turned into a cited finding.

The researcher names a tool and gives one argument string, as it does for web_search: the value
of a tool's only parameter, or a JSON object for a tool that takes several. A reply becomes one
passage labelled `server.tool: argument`, so an answer cites it as `[n] directory.lookup_employee:
Ada Lovelace` and later turns find it among the workspace's findings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from crew.engine.tools import ToolResult
from crew.engine.tools.mcp import Check, McpFault, McpHub, McpTool
from crew.redact import redact
from crew.retrieval.memory import Hit
from crew.settings import McpServer, Settings


class BadArguments(ValueError):
    """The model's argument does not fit the tool's input schema."""


def _coerce(text: str, schema: dict[str, Any]) -> Any:
    """Read a bare argument as the parameter's type: "42" for a number is 42."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text  # the schema check says what is wrong
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def arguments_for(tool: McpTool, argument: str) -> dict[str, Any]:
    """The tool's arguments from the model's one string, checked against the tool's input schema."""
    import jsonschema

    text = argument.strip()
    properties = tool.schema.get("properties") or {}
    required = tool.schema.get("required") or []
    names = list(required) if len(required) == 1 else (list(properties) if len(properties) == 1 else [])
    args: Any = None
    if text.startswith("{"):
        try:
            args = json.loads(text)
        except ValueError:
            if len(names) != 1:
                raise BadArguments(f"{tool.qualified}: the argument is not a valid JSON object") from None
    if args is not None:
        pass
    elif not properties:
        args = {}
    elif len(names) == 1:  # a tool of one parameter takes the bare value, as web_search takes its query
        args = {names[0]: _coerce(text, properties.get(names[0], {}))}
    else:
        raise BadArguments(f"{tool.qualified} takes {', '.join(properties)}: give them as one JSON object")
    try:
        validator = jsonschema.validators.validator_for(tool.schema)(tool.schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(args))
    except jsonschema.exceptions.SchemaError as exc:
        raise BadArguments(f"{tool.qualified}: the server's input schema is not valid ({exc.message[:120]})") from None
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise BadArguments(f"arguments for {tool.qualified} do not match its schema: "
                           f"{(where + ': ') if where else ''}{error.message[:200]}")
    return args


def _label(args: dict[str, Any]) -> str:
    if len(args) == 1:
        return " ".join(str(next(iter(args.values()))).split())
    return ", ".join(f"{k}={v}" for k, v in args.items())


def result_of(tool: McpTool, args: dict[str, Any], result: Any, max_chars: int) -> ToolResult:
    """What the researcher keeps of a reply: its text (other content named, not kept) as one finding."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(block.text))
        elif kind == "resource" and isinstance(getattr(block.resource, "text", None), str):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'unknown'} content not read]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts).strip()
    if getattr(result, "is_error", False):
        return ToolResult(False, redact(f"{tool.qualified} answered with an error: {' '.join(text.split())[:300]}"))
    if not text:
        return ToolResult(True, f"{tool.qualified} returned nothing")
    key = hashlib.sha256(json.dumps([tool.qualified, args], sort_keys=True, default=str).encode()).hexdigest()[:16]
    hit = Hit(text=text[:max_chars], source=f"{tool.qualified}: {_label(args)}"[:200], page=0, url="", score=1.0,
              chunk_id=f"mcp-{key}", doc_id=f"mcp-{key}", position=0, kind="findings")
    return ToolResult(True, f"{len(text):,} characters from {tool.qualified}"
                            + (f" (kept {max_chars:,})" if len(text) > max_chars else ""), [hit])


@dataclass(frozen=True)
class McpToolbox:
    """The MCP servers one workspace may use, over the process's connections."""

    hub: McpHub
    servers: dict[str, McpServer]
    timeout: float
    max_bytes: int
    max_chars: int = 4000  # of one reply, kept as a passage (as much as a fetched page)

    @classmethod
    def for_workspace(cls, hub: McpHub, settings: Settings, workspace: str | None) -> "McpToolbox | None":
        from crew.engine.tools.catalog import servers_for

        servers = servers_for(settings, workspace)
        if not servers:
            return None
        return cls(hub, servers, settings.mcp_timeout_s, settings.mcp_max_bytes)

    def listing(self, check: Check | None = None) -> tuple[list[McpTool], list[tuple[str, str]]]:
        """Every tool of every server that answers, and (server, why) for those that do not.

        `check` raises to stop waiting for servers that are slow to answer (the turn's Stop or clock)."""
        statuses = self.hub.status(self.servers, timeout=self.timeout, max_bytes=self.max_bytes, check=check)
        tools = [t for s in statuses if s.connected for t in s.tools]
        return tools, [(s.name, s.error) for s in statuses if not s.connected]

    def call(self, tool: McpTool, argument: str, check: Check | None = None) -> ToolResult:
        """Call a tool with the model's argument.

        Bad arguments, a refused call, a reply too large or not MCP come back as a failed
        ToolResult (another try would not help); a server down or slow raises McpUnavailable or
        McpTimeout, which the gate retries within the turn's limits. What `check` raises while
        the call is in flight (the turn's Stop or clock) abandons the call and is raised as is.
        """
        try:
            args = arguments_for(tool, argument)
        except BadArguments as exc:
            return ToolResult(False, redact(str(exc)))
        try:
            reply = self.hub.call(tool.server, self.servers[tool.server], tool.name, args, timeout=self.timeout,
                                  max_bytes=self.max_bytes, check=check)
        except McpFault as exc:
            return ToolResult(False, redact(f"{tool.qualified}: {exc}"))
        return result_of(tool, args, reply, self.max_chars)

    @staticmethod
    def takes_text(tool: McpTool) -> bool:
        """True for a tool of one string parameter (a name, a query), which a question can fill."""
        properties = tool.schema.get("properties") or {}
        return len(properties) == 1 and next(iter(properties.values()), {}).get("type") == "string"

    def hint(self, tool: McpTool) -> str:
        """How the researcher's prompt describes a tool: its name, its argument, what it says it does."""
        properties = tool.schema.get("properties") or {}
        if not properties:
            argument = "none"
        elif len(properties) == 1 or len(tool.schema.get("required") or []) == 1:
            name = (tool.schema.get("required") or list(properties))[0]
            argument = f"the {name.replace('_', ' ')}"
        else:
            argument = "a JSON object with " + ", ".join(
                f"{k} ({v.get('type', 'any')})" for k, v in properties.items())
        # The description is the server's text: kept short and unable to open or close a fence.
        said = tool.description[:200].replace("<<<", "‹‹‹").replace(">>>", "›››")
        return f"{tool.qualified} (argument: {argument}; {said.rstrip('.')})"
