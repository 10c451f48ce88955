"""Opt-in (`-m live`): a provider's model translates a question into its documents' language, and the researcher
searches again with it. Skipped without a provider: set CREW_LIVE_MODEL (`provider:model`), or OPENAI_API_KEY /
ANTHROPIC_API_KEY for their small models. Runs in a child process: this session refuses non-loopback connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.live, pytest.mark.timeout(300)]

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from crew.engine.service import Crew
from crew.retrieval.memory import Chunk
from crew.retrieval.stemming import language_of
from crew.settings import Settings

passages = ["Una taza de té verde tiene unos 30 mg de cafeína, la mitad que una taza de café.",
            "La orden chmod cambia los permisos de lectura, escritura y ejecución de un archivo."]
with tempfile.TemporaryDirectory() as data:
    crew = Crew.from_settings(Settings(data_dir=Path(data), model=sys.argv[1], web_search=False, research_steps=0,
                                       translate_questions="auto"))
    crew.memory.workspace("w").add("documents", [Chunk(text=t, source="guia.pdf", doc_id="d", position=i, page=i + 1)
                                                  for i, t in enumerate(passages)])
    turn = crew.run_turn("w", "t", "How much caffeine does a cup of green tea have?")
    events = list(turn)
    searched = [e.data["args"] for e in events if e.kind == "tool_call" and e.text == "search_memory"]
    print(json.dumps({"status": turn.result.status, "error": turn.result.error, "searched": searched,
                      "languages": [language_of(s["query"]) for s in searched], "answer": turn.result.answer}))
"""


def live_model() -> str | None:
    if os.environ.get("CREW_LIVE_MODEL"):
        return os.environ["CREW_LIVE_MODEL"]
    if os.environ.get("OPENAI_API_KEY"):
        return "openai:gpt-4o-mini"
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic:claude-3-5-haiku-latest"
    return None


def test_a_provider_s_model_translates_the_question_and_the_search_runs_again_in_the_documents_language():
    model = live_model()
    if model is None:
        pytest.skip("no provider: set CREW_LIVE_MODEL, OPENAI_API_KEY or ANTHROPIC_API_KEY")
    done = subprocess.run([sys.executable, "-c", SCRIPT, model], capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["status"] == "done", out["error"]
    assert len(out["searched"]) >= 2 and out["searched"][1].get("translated_from"), out["searched"]
    assert out["languages"][:2] == ["en", "es"], out
