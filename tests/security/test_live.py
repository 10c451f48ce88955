"""Opt-in (`-m live`): the web tools against the real internet.

They run in a child process, because this test session refuses every non-loopback connection
in-process (tests/conftest.py). Skipped when the machine is offline.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]

SCRIPT = r"""
import json, sys
from crew.engine.tools.address_guard import BlockedURL, check_url
from crew.engine.tools.fetch_page import fetch_page
from crew.engine.tools.web_search import ddgs_search, web_search

out = {}
search = web_search(ddgs_search(10), "green tea catechins", wait_s=1)
out["search"] = {"ok": search.ok, "text": search.text, "urls": [h.url for h in search.hits]}
page = fetch_page("https://example.com/")
out["page"] = {"ok": page.ok, "text": page.hits[0].text if page.hits else page.text}
try:
    check_url("http://127.0.0.1.nip.io/")  # public DNS that answers 127.0.0.1
    out["rebind"] = "allowed"
except BlockedURL as exc:
    out["rebind"] = str(exc)
print(json.dumps(out))
"""


def test_real_search_fetch_and_a_public_name_for_loopback():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if not out["page"]["ok"] and "unavailable" in out["search"]["text"]:
        pytest.skip(f"offline: {out['search']['text']}")
    assert out["search"]["ok"] or "unavailable" in out["search"]["text"]  # a rate limit is a result, not a crash
    assert all(u.startswith(("http://", "https://")) for u in out["search"]["urls"])
    assert out["page"]["ok"] and "Example Domain" in out["page"]["text"]
    assert out["rebind"] != "allowed" and ("127.0.0.1" in out["rebind"] or "resolve" in out["rebind"])
