"""The roles table (crew.roles) is the one place the crew's roles are listed.

Settings, the chat's icons, the Traces page's colours, the fake model and the fixtures read it; a
new role added as one row reaches all of them, and nothing else enumerates the roles.
"""

import ast
import subprocess
import sys
import textwrap

import pytest
from pydantic import BaseModel

from crew import roles
from crew.models.fake import _REPLIES, FakeCrewModel
from crew.presentation.turn_view import AGENT_ICONS, StepView
from crew.settings import ROLES, Role, Settings
from tests.servers import ROOT


def test_settings_take_roles_and_one_model_field_per_row_from_the_table(monkeypatch):
    assert ROLES == tuple(r.name for r in roles.AGENTS)
    assert Role.__args__ == ROLES
    overrides = {name for name in Settings.model_fields if name.startswith("model_")}
    assert overrides == {r.model_field for r in roles.AGENTS}  # none missing, none left over
    for role in roles.AGENTS:
        monkeypatch.setenv(f"CREW_MODEL_{role.name.upper()}", f"fake?delay=0.{len(role.name)}")
    settings = Settings(model="local")
    assert [settings.model_for(r) for r in ROLES] == [f"fake?delay=0.{len(r)}" for r in ROLES]


def test_the_views_show_every_actor_as_the_table_says():
    assert AGENT_ICONS == {a.name: a.icon for a in roles.actors()}
    assert {"person", "crew"} <= set(AGENT_ICONS)
    assert all(a.icon.startswith(":material/") and a.icon.endswith(":") for a in roles.actors())
    colours = roles.colours()
    assert set(colours) == set(AGENT_ICONS) and len(set(colours.values())) == len(colours)  # each its own colour
    step = StepView(span_id="s", agent="critic", kind="critique", label="Checking")
    assert str(step.title).startswith(roles.icons()["critic"])


def test_the_traces_page_takes_its_colours_from_the_table():
    page = (ROOT / "pages" / "3_Traces.py").read_text()
    tree = ast.parse(page)
    colour_literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                       and isinstance(n.value, str) and n.value.startswith("#") and len(n.value) in (4, 7)]
    assert colour_literals == []
    assert "from crew.roles import colours" in page and "colours()" in page


def _enumerations(path):
    """Literal lists, tuples, sets and dict keys that name two or more actors."""
    names = {a.name for a in roles.actors()}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
        found = [i.value for i in items if isinstance(i, ast.Constant) and i.value in names]
        if len(found) >= 2:
            yield f"{path.relative_to(ROOT)}:{node.lineno} {found}"


def test_nothing_but_the_table_lists_the_roles():
    files = [*(ROOT / "src" / "crew").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), ROOT / "app.py",
             *(ROOT / "bench").glob("*.py"), *(ROOT / "tests").rglob("conftest.py")]
    # The fake model's replies are its behaviour per role, checked against the table below.
    allowed = {ROOT / "src" / "crew" / "roles.py", ROOT / "src" / "crew" / "models" / "fake.py"}
    found = [hit for path in files if path not in allowed for hit in _enumerations(path)]
    assert len(files) > 30 and found == []
    assert set(_REPLIES) <= set(ROLES)


def test_the_fake_model_answers_by_the_schema_class_not_its_fields():
    fake = FakeCrewModel(subquestions=2)
    for role in roles.AGENTS:
        schema = role.output_schema()
        if schema is None:
            continue
        assert isinstance(fake.with_structured_output(schema).invoke("Goal: green tea"), schema)
    plan = fake.with_structured_output(roles.AGENTS[0].output_schema()).invoke("anything, worded any way")
    assert len(plan.subquestions) == 2

    class LooksLikeAPlan(BaseModel):  # the coordinator's field, but no role's schema
        subquestions: list[str]

    with pytest.raises(TypeError, match="LooksLikeAPlan"):
        fake.with_structured_output(LooksLikeAPlan).invoke("Goal: green tea")


NEW_ROLE = textwrap.dedent('''
    import os, sys, types
    from pydantic import BaseModel

    module = types.ModuleType("fact_checker")  # stands in for crew/engine/agents/fact_checker.py

    class Check(BaseModel):
        verified: bool = True

    module.Check = Check
    sys.modules["fact_checker"] = module

    import crew.roles as roles
    roles.AGENTS += (roles.AgentRole("fact_checker", "Fact checker", ":material/fact_check:", "#0b7285",
                                     job="checks the numbers", module="fact_checker", schema="Check"),)
    os.environ["CREW_MODEL_FACT_CHECKER"] = "fake?delay=0.01"

    from crew.models.fake import FakeCrewModel
    from crew.models.providers import build_models
    from crew.presentation.turn_view import AGENT_ICONS, StepView
    from crew.settings import ROLES, Role, Settings

    settings = Settings(model="fake")
    assert "fact_checker" in ROLES and "fact_checker" in Role.__args__
    assert settings.model_for("fact_checker") == "fake?delay=0.01"
    assert isinstance(build_models(settings)["fact_checker"], FakeCrewModel)
    assert AGENT_ICONS["fact_checker"] == ":material/fact_check:"
    assert str(StepView(span_id="s", agent="fact_checker", kind="check", label="x").title).startswith(":material/fact_check:")
    assert roles.colours()["fact_checker"] == "#0b7285"
    assert FakeCrewModel().with_structured_output(Check).invoke("x") == Check(verified=True)
    print("ok")
''')


def test_a_new_role_is_one_row_in_the_table():
    out = subprocess.run([sys.executable, "-c", NEW_ROLE], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
