"""List every tool each role may use, built in and from MCP servers: the allow-list `crew tools` shows.

Only the researcher takes tool actions; the other roles work from what it found. A tool outside
a role's list is never run, whatever a model asks for (crew.engine.agents.researcher).
"""

from __future__ import annotations

from crew.engine.tools.mcp import McpHub, ServerStatus
from crew.settings import Settings

BUILT_IN = {
    "search_memory": "Search the workspace's documents and remembered findings (vectors and keywords).",
    "web_search": "Search the web with DuckDuckGo (ddgs).",
    "fetch_page": "Read one public web page as text (private and local addresses refused).",
}
# The built-in tools each role may call; MCP tools go to the roles in MCP_ROLES.
ROLE_TOOLS: dict[str, tuple[str, ...]] = {"researcher": ("search_memory", "web_search", "fetch_page")}
MCP_ROLES: tuple[str, ...] = ("researcher",)


def catalog(settings: Settings, servers: list[ServerStatus]) -> list[dict]:
    """Rows of {name, server, role, status, description}; a server that does not answer is one row
    with an empty name and its error as the status."""
    rows = []
    for role, names in ROLE_TOOLS.items():
        for name in names:
            on = name == "search_memory" or settings.web_search
            rows.append({"name": name, "server": "built-in", "role": role, "status": "ok" if on else "off",
                         "description": BUILT_IN[name]})
    for role in MCP_ROLES:
        for server in servers:
            if not server.connected:
                rows.append({"name": "", "server": server.name, "role": role,
                             "status": f"unavailable: {server.error}", "description": ""})
            rows += [{"name": tool.qualified, "server": server.name, "role": role, "status": "ok",
                      "description": tool.description} for tool in server.tools]
    return rows


def servers_for(settings: Settings, workspace: str | None):
    """The MCP servers a workspace may use (all of them when no workspace is named)."""
    return {name: server for name, server in settings.mcp_servers.items() if server.serves(workspace)}


def tool_catalog(settings: Settings, workspace: str | None = None, hub: McpHub | None = None) -> list[dict]:
    """The catalog of a workspace's tools, asking each MCP server (over `hub`, or connections of its own
    that are closed again: the CLI's case)."""
    own = hub is None
    hub = hub or McpHub()
    try:
        statuses = hub.status(servers_for(settings, workspace), timeout=settings.mcp_timeout_s,
                              max_bytes=settings.mcp_max_bytes)
        return catalog(settings, statuses)
    finally:
        if own:
            hub.close()
