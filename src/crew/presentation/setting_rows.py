"""Describe the Settings page's read-only rows (settings read when the process starts), without Streamlit.

A field marked `json_schema_extra=on_page("traces")` whose section the page shows as a table becomes
one row: its title, the environment variable it is read from, and its value as it may be shown (a
secret only as set or not, a URL without its password).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AliasChoices, BaseModel, SecretStr

from crew.redact import url_for_display
from crew.settings import Settings


@dataclass(frozen=True)
class SettingRow:
    field: str
    label: str
    env: str
    value: str
    help: str


def page_rows(page: str, settings: BaseModel, model: type[BaseModel] = Settings) -> list[SettingRow]:
    """The rows of one section of the Settings page, in the order the fields are declared."""
    prefix = str(model.model_config.get("env_prefix", ""))
    rows = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("page") != page:
            continue
        alias = info.validation_alias
        env = alias.choices[0] if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str) else None
        rows.append(SettingRow(name, info.title or name, env or f"{prefix}{name.upper()}",
                               shown(getattr(settings, name)), info.description or ""))
    return rows


def shown(value: object) -> str:
    """A setting's value as the page may show it."""
    if value is None or value == "":
        return "not set"
    if isinstance(value, SecretStr):
        return "set (hidden)" if value.get_secret_value() else "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    return url_for_display(str(value))
