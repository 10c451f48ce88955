"""The turn budget: steps, tool calls, loops, tokens, wall clock and Stop."""

import threading

import pytest

from crew.engine.limits import Budget, LimitReached, Limits


def test_steps_and_tool_calls_are_capped():
    b = Budget(Limits(max_steps=2, max_tool_calls=2))
    b.step("a")
    b.step("a")
    with pytest.raises(LimitReached) as exc:
        b.step("a")
    assert exc.value.limit == "max_steps"
    b.tool_call("r", "web_search", {"q": 1})
    b.tool_call("r", "web_search", {"q": 2})
    with pytest.raises(LimitReached) as exc:
        b.tool_call("r", "web_search", {"q": 3})
    assert exc.value.limit == "max_tool_calls"


def test_the_third_identical_call_is_a_loop():
    b = Budget(Limits(max_tool_calls=100, loop_repeats=3))
    b.tool_call("researcher", "web_search", {"argument": "x"})
    b.tool_call("researcher", "web_search", {"argument": "x"})
    b.tool_call("researcher", "web_search", {"argument": "y"})  # other arguments are not the loop
    b.tool_call("writer", "web_search", {"argument": "x"})  # nor is another agent
    with pytest.raises(LimitReached) as exc:
        b.tool_call("researcher", "web_search", {"argument": "x"})
    assert exc.value.limit == "loop"
    assert b.tool_calls == 4


def test_token_budget_refuses_the_call_after_it_is_spent():
    b = Budget(Limits(token_budget=100))
    b.before_model_call()
    b.spend(99)
    b.before_model_call()
    b.spend(50)
    with pytest.raises(LimitReached) as exc:
        b.before_model_call()
    assert exc.value.limit == "token_budget"


def test_wall_clock_and_stop():
    now = [0.0]
    b = Budget(Limits(timeout_s=10), clock=lambda: now[0])
    b.check()
    now[0] = 10.5
    with pytest.raises(LimitReached) as exc:
        b.check()
    assert exc.value.limit == "timeout"
    cancel = threading.Event()
    b2 = Budget(Limits(), cancel)
    cancel.set()
    with pytest.raises(LimitReached) as exc:
        b2.step("coordinator")
    assert exc.value.limit == "stopped"


def test_limits_come_from_the_settings_of_the_same_name():
    from dataclasses import asdict, fields

    from crew.settings import Settings

    chosen = {"max_revisions": 5, "max_steps": 9, "max_tool_calls": 7, "token_budget": 1_234, "timeout_s": 12.5,
              "loop_repeats": 4, "retry_attempts": 2, "retry_wait_s": 0.25}
    assert {f.name for f in fields(Limits)} == set(chosen)  # a new limit is added to this test too
    assert asdict(Limits.from_settings(Settings(**chosen))) == chosen
    # Without settings, a limit is the setting's default: Limits has no numbers of its own.
    assert asdict(Limits()) == {name: Settings.model_fields[name].default for name in chosen}
