"""The Settings page's inputs are read off the Settings fields: marker, type, title, help and bounds."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from crew.presentation.setting_widgets import SettingWidget, page_widgets
from crew.settings import on_page


class Example(BaseModel):
    hidden: int = Field(1, ge=0)
    rounds: int = Field(2, ge=0, le=10, title="Rounds", description="How many.", json_schema_extra=on_page("limits"))
    seconds: float = Field(3.0, ge=1, title="Seconds", description="How long.",
                           json_schema_extra=on_page("limits", step=5, page_max=60))
    web: bool = Field(True, title="Web", description="Search the web.", json_schema_extra=on_page("limits"))
    elsewhere: int = Field(4, ge=0, json_schema_extra=on_page("other"))


def test_marked_fields_become_widgets_of_their_type_with_their_bounds():
    assert page_widgets("limits", Example) == [
        SettingWidget("rounds", "int", "Rounds", "How many.", 0, 10, 1),
        SettingWidget("seconds", "float", "Seconds", "How long.", 1.0, 60.0, 5.0),
        SettingWidget("web", "toggle", "Web", "Search the web."),
    ]
    seconds = page_widgets("limits", Example)[1]
    assert isinstance(seconds.min, float) and isinstance(seconds.cast(300), float)  # number_input wants one type
    assert (seconds.shown(300.0), page_widgets("limits", Example)[2].shown(False)) == ("300", "off")


def test_a_bound_the_page_cannot_show_is_refused():
    class Exclusive(BaseModel):
        timeout: float = Field(1.0, gt=0, json_schema_extra=on_page("limits"))

    class Text(BaseModel):
        name: str = Field("x", json_schema_extra=on_page("limits"))

    with pytest.raises(TypeError, match="inclusive bound"):
        page_widgets("limits", Exclusive)
    with pytest.raises(TypeError, match="int, float or bool"):
        page_widgets("limits", Text)


def test_read_only_rows_name_the_variable_and_never_show_a_secret():
    from pydantic import SecretStr

    from crew.presentation.setting_rows import page_rows
    from crew.settings import Settings

    settings = Settings(otlp_endpoint="https://user:pw-0123456789@collector.example/otel",
                        otlp_headers=SecretStr("api-key=hdr-0123456789"))
    rows = {r.env: r.value for r in page_rows("traces", settings)}
    assert rows == {"CREW_OTLP_ENDPOINT": "https://user:***@collector.example/otel",
                    "CREW_OTLP_HEADERS": "set (hidden)", "CREW_OTLP_CONTENT": "off"}
    assert [r.label for r in page_rows("traces", Settings())] == ["OTLP endpoint", "OTLP headers",
                                                                  "Export prompts and results"]
    assert {r.value for r in page_rows("traces", Settings())} == {"not set", "off"}
