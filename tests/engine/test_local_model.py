"""The embedded model, really run: offline, in-process, and behind llama.cpp's OpenAI-compatible server."""

import json
import re
import subprocess
import sys
import time

import httpx
import pytest

from crew.engine.agents.coordinator import Plan
from crew.models.providers import embedded_gguf
from crew.models.local import LocalChatModel
from crew.settings import ROLES
from tests.servers import free_port, run_cli

pytestmark = pytest.mark.slow


def assert_cited_answer(doc):
    assert doc["answer"].strip()
    assert set(ROLES) <= {s["agent"] for s in doc["steps"]}
    numbers = {c["n"] for c in doc["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", doc["answer"])} <= numbers
    assert sum(s["tokens_out"] for s in doc["steps"]) > 0


@pytest.fixture
def tea_workspace(tmp_path):
    doc = tmp_path / "tea.md"
    doc.write_text("# Green tea\n\nA cup of green tea has about 30 mg of caffeine.\n\n"
                   "## Catechins\n\nGreen tea is rich in catechins such as EGCG, which are antioxidants.\n")
    assert run_cli("ingest", str(doc), "--workspace", "tea").returncode == 0


def test_structured_output_from_the_tiny_model_is_valid():
    model = LocalChatModel(model_path=str(embedded_gguf()))
    out = model.with_structured_output(Plan, include_raw=True).invoke("Goal: What are the benefits of green tea?")
    assert isinstance(out["parsed"], Plan), out["raw"].content
    assert 1 <= len(out["parsed"].subquestions) <= 4
    assert out["raw"].usage_metadata["output_tokens"] > 0


def test_cli_run_on_the_embedded_model_offline(tea_workspace):
    out = run_cli("run", "How much caffeine does green tea have?", "--workspace", "tea", "--json", timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert_cited_answer(json.loads(out.stdout))


@pytest.fixture
def llama_server(tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
        yield base, tmp_path / "server.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # uvicorn waits for a generation in flight
            proc.kill()
            proc.wait()
        log.close()


def test_a_turn_through_the_openai_client_and_server(tea_workspace, llama_server):
    base, log = llama_server
    out = run_cli("run", "How much caffeine does green tea have?", "--workspace", "tea", "--model", "openai:smollm2", "--json",
                  env={"OPENAI_BASE_URL": base, "OPENAI_API_KEY": "sk-local-test", "CREW_OPENAI_STRUCTURED": "json_object_schema"},
                  timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    assert doc["error"] is None, doc["error"]
    assert_cited_answer(doc)
    # Every model call of the turn went through the server.
    served = log.read_text().count("POST /v1/chat/completions")
    assert served >= sum(1 for s in doc["steps"] if s["tokens_out"] > 0)
