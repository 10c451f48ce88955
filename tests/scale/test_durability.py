"""Kill the process mid-turn: the chat shows the turn as interrupted, and it carries on from its checkpoint."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from crew.storage.chats import ChatStore
from crew.storage.files import DataFiles
from crew.models.fake import FakeCrewModel
from crew.engine.service import Crew, NotPaused
from crew.settings import ROLES, Settings

RUNNER = textwrap.dedent("""
    import sys
    from crew.storage.chats import ChatStore
    from crew.storage.files import DataFiles
    from crew.engine.service import Crew
    from crew.settings import Settings

    settings = Settings(model="fake?delay=1", web_search=False)
    crew = Crew.from_settings(settings)
    store = ChatStore(DataFiles(settings.data_dir).chats)
    chat = store.create("durable", "kill me")
    crew.ingest("durable", "tea.md", b"A cup of green tea has about 30 mg of caffeine.")
    turn = crew.run_turn("durable", chat.chat_id, "How much caffeine is in green tea?")
    store.start_turn("durable", chat.chat_id, turn.turn_id, turn.goal)
    events = []
    for event in turn:
        events.append(event)
        if event.kind == "step_finished":
            store.save_turn("durable", chat.chat_id, turn.turn_id, events=events, status="running")
        # With sync durability the plan's checkpoint is on disk before the researcher starts.
        if event.kind == "step_started" and event.agent == "researcher":
            print("RESEARCHING", chat.chat_id, turn.turn_id, flush=True)
""")


def kill_after_first_line(script: str, while_alive=lambda line: None) -> list[str]:
    """Run a Python script until its first line of output, let `while_alive` look around, SIGKILL it.
    Returns that line's words."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stdout.readline().split()
        while_alive(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return line


@pytest.mark.slow
def test_a_turn_killed_midway_is_interrupted_and_carries_on(tmp_path):
    store = ChatStore(DataFiles(tmp_path / "data").chats)

    def running(line: list[str]) -> None:  # the plan is made and saved; research has begun
        assert line[:1] == ["RESEARCHING"], line
        assert store.turn("durable", line[2]).status == "running"  # its process is alive

    _, chat_id, turn_id = kill_after_first_line(RUNNER, running)

    # After the restart: the chat shows the turn as interrupted, with what was saved.
    record = store.turns("durable", chat_id)[0]
    assert record.status == "interrupted"
    assert [e["agent"] for e in record.events if e["kind"] == "step_finished"] == ["coordinator"]

    settings = Settings(model="fake", web_search=False)
    model = FakeCrewModel()
    crew = Crew.from_settings(settings, models={r: model for r in ROLES})
    turn = crew.continue_turn("durable", chat_id, turn_id, record.goal)
    events = list(turn)
    # It carried on from the checkpoint: the plan was not made again.
    assert [e.agent for e in events if e.kind == "step_started"] == ["researcher", "writer", "critic"]
    assert turn.result.status == "done"
    assert "30 mg" in turn.result.answer
    assert [c["source"] for c in turn.result.citations] == ["tea.md"]
    # A finished turn has nothing left to carry on.
    with pytest.raises(NotPaused):
        crew.continue_turn("durable", chat_id, turn_id, record.goal)


INGESTER = textwrap.dedent("""
    import sys
    from crew.engine.service import Crew
    from crew.settings import Settings

    crew = Crew.from_settings(Settings(model="fake", web_search=False))
    text = "".join(f"Paragraph {i} of the long report: the pumps of station {i} run at {i % 97} bar.\\n\\n" for i in range(6000))
    said = False

    def progress(stage, fraction):
        global said
        if stage == "embedding" and fraction > 0.4 and not said:
            said = True
            print("EMBEDDING", flush=True)

    crew.ingest("durable", "long-report.md", text.encode(), progress=progress)
    print("FINISHED", flush=True)
""")


@pytest.mark.slow
def test_an_upload_killed_midway_leaves_nothing_behind(tmp_path):
    assert kill_after_first_line(INGESTER) == ["EMBEDDING"]

    model = FakeCrewModel()
    crew = Crew.from_settings(Settings(model="fake", web_search=False), models={r: model for r in ROLES})
    memory = crew.memory.workspace("durable")
    assert memory.count("documents") > 0  # the killed upload did store part of its chunks
    assert memory.search("pumps of station 12", k=5) == []  # ... which search never shows
    assert crew.documents("durable") == []  # listing it sweeps the dead upload away
    assert memory.count("documents") == 0 and memory.keyword_count("documents") == 0
    # The same file can be uploaded again, whole.
    again = crew.ingest("durable", "long-report.md", b"The pumps of station 12 run at 12 bar.")
    assert again.status == "ok"
    assert [d.name for d in crew.documents("durable")] == ["long-report.md"]
