"""Describe the Settings page's inputs from the Settings fields, without Streamlit.

A field marked `json_schema_extra=on_page("limits", ...)` is shown in that section of the page:
its type picks the widget (int or float: a number input, bool: a toggle), its title is the label,
its description the help, its ge/le the bounds (`page_max` where the field has no le). So showing
another setting is one field edit, and the page can never allow what Settings refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from crew.settings import Settings

Kind = Literal["int", "float", "toggle"]
_KINDS: dict[type, Kind] = {bool: "toggle", int: "int", float: "float"}


@dataclass(frozen=True)
class SettingWidget:
    """One input of the Settings page; numbers are of the field's own type, as number_input needs."""

    field: str
    kind: Kind
    label: str
    help: str
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None

    def cast(self, value: object) -> int | float | bool:
        """The value as the widget holds it (a float field's 300 is 300.0)."""
        return {"int": int, "float": float, "toggle": bool}[self.kind](value)

    def shown(self, value: object) -> str:
        """The value as a person reads it in a summary: 60,000 · 300 · on."""
        if self.kind == "toggle":
            return "on" if value else "off"
        return f"{value:,}" if self.kind == "int" else f"{value:g}"


def page_widgets(page: str, model: type[BaseModel] = Settings) -> list[SettingWidget]:
    """The inputs of one section of the Settings page, in the order the fields are declared."""
    return [_widget(name, info) for name, info in model.model_fields.items() if _extra(info).get("page") == page]


def _extra(info: FieldInfo) -> dict:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


def _widget(name: str, info: FieldInfo) -> SettingWidget:
    kind = _KINDS.get(info.annotation)  # type: ignore[arg-type]
    if kind is None:
        raise TypeError(f"setting {name}: the Settings page shows int, float or bool fields, not {info.annotation}")
    label, help_ = info.title or name, info.description or ""
    if kind == "toggle":
        return SettingWidget(name, kind, label, help_)
    number = int if kind == "int" else float
    low = high = None
    for bound in info.metadata:
        if isinstance(bound, (annotated_types.Gt, annotated_types.Lt)):
            # A number input's bounds are inclusive: an exclusive one would let the page offer a refused value.
            raise TypeError(f"setting {name}: give the page an inclusive bound (ge/le), not {bound!r}")
        if isinstance(bound, annotated_types.Ge):
            low = number(bound.ge)
        if isinstance(bound, annotated_types.Le):
            high = number(bound.le)
    extra = _extra(info)
    if high is None and extra.get("page_max") is not None:
        high = number(extra["page_max"])
    return SettingWidget(name, kind, label, help_, low, high, number(extra.get("step", 1)))
