"""Run the app in Streamlit's AppTest with scripted models put in through the session's model hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from crew.settings import ROLES, Settings
from pages.common.crew_access import MODELS_HOOK, get_crew
from tests.doubles import ScriptedChatModel
from tests.servers import APP

TEA = (b"# Green tea\n\nGreen tea is made from the unoxidised leaves of Camellia sinensis. "
       b"A cup holds about 30 mg of caffeine.\n")


@dataclass
class Scripted:
    """An AppTest session whose turns run on scripted models, one per role."""

    at: AppTest
    models: dict[str, ScriptedChatModel]
    seen: list[Settings] = field(default_factory=list)

    def ask(self, goal: str, upload: tuple[str, bytes] | None = None) -> AppTest:
        box = self.at.chat_input[0]
        if upload:
            box.upload(upload[0], upload[1], "text/markdown")
        at = box.set_value(goal).run()
        self.settle()
        return at

    def settle(self) -> None:
        """Wait until every turn the page showed has also been saved (its thread saves after the end)."""
        for live in get_crew(Settings()).running_turns():
            assert live.join(30)

    def statuses(self) -> list[tuple[str, str]]:
        return [(s.label, s.state) for s in self.at.status]


@pytest.fixture
def scripted(monkeypatch):
    """Start the chat page with per-role scripted replies: scripted(coordinator=[...], writer=[...], ...).

    Scripted drafts exercise the page's loop, so the support check that would rewrite them is off
    (as in make_crew); the grounded chat is tested on the fake model and in the browser.
    """
    monkeypatch.setenv("CREW_GROUNDED", "false")

    def start(**replies: list[Any]) -> Scripted:
        models = {role: ScriptedChatModel(responses=list(replies.get(role, []))) for role in ROLES}
        at = AppTest.from_file(str(APP), default_timeout=60)
        app = Scripted(at, models)

        def factory(settings: Settings):
            app.seen.append(settings)
            return dict(models)

        at.session_state[MODELS_HOOK] = factory
        at.run()
        assert not at.exception, at.exception
        return app

    return start


def texts(block) -> list[str]:
    """Every markdown and caption text inside an element tree block, in order."""
    return [m.value for m in block.markdown] + [c.value for c in block.caption]
