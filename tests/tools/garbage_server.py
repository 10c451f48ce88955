"""A stdio server that speaks just enough MCP to list one tool, then answers its call with garbage.

Written by hand, without the SDK: the SDK's servers guard their stdout, and a broken server is
what this test needs.
"""

import json
import sys


def reply(message_id, result=None, error=None) -> None:
    body = {"jsonrpc": "2.0", "id": message_id}
    body.update({"error": error} if error else {"result": result})
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue  # a notification
    method = message.get("method")
    if method == "initialize":
        reply(message["id"], {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                              "serverInfo": {"name": "garbage", "version": "1"}})
    elif method == "tools/list":
        reply(message["id"], {"tools": [{"name": "lookup_employee", "description": "Look up a person.",
                                         "inputSchema": {"type": "object", "properties": {"name": {"type": "string"}},
                                                         "required": ["name"]}}]})
    elif method == "tools/call":
        sys.stdout.write("<html><body>500 Internal Server Error</body></html>\n")
        sys.stdout.flush()
    else:
        reply(message["id"], error={"code": -32601, "message": f"method not found: {method}"})
