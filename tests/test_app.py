"""The chat page answers a goal with the fake model (Streamlit AppTest, no browser)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_app_answers_a_goal(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    at.chat_input[0].set_value("What is green tea?").run()
    assert not at.exception
    texts = [m.markdown[-1].value for m in at.chat_message if m.markdown]
    assert texts[0] == "What is green tea?"
    assert "no evidence" in texts[-1]
