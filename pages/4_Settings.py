"""Settings page: the model of each role, the limits of a turn, which API keys are configured, where traces
go, and how each MCP server is doing.

Changes last for this browser session and reach the next turn; the environment and
`.streamlit/secrets.toml` stay the defaults. Keys are only read from there and shown masked.
"""

from __future__ import annotations

import os
import tomllib
from collections import Counter

import streamlit as st

from crew import HINTS, PROVIDERS, ModelSpecError, access_fields, split_spec
from crew.presentation.safe_text import md, plain
from crew.presentation.setting_rows import page_rows
from crew.presentation.setting_widgets import page_widgets
from crew.settings import APP_DIR, ROLES, Settings
from crew.presentation.secrets import mask_secret
from pages.common.chrome import page_setup
from pages.common.crew_access import get_crew, models_for, overrides, set_overrides

LIMITS = page_widgets("limits")  # the fields marked on_page("limits"), with their labels, bounds and help


def split_for_form(spec: str) -> tuple[str, str]:
    """'openai:gpt-4o' -> ('openai', 'gpt-4o'); 'fake?delay=1' -> ('fake', '?delay=1')."""
    provider = split_spec(spec)[0]
    rest = spec.strip()[len(provider):]
    return provider, rest[1:] if rest.startswith(":") else rest


def join_spec(provider: str, rest: str) -> str:
    rest = rest.strip()
    if not rest:
        return provider
    return provider + (rest if rest.startswith("?") else ":" + rest)


def _secrets_file() -> dict:
    path = APP_DIR / ".streamlit" / "secrets.toml"
    try:
        return {k.lower(): v for k, v in tomllib.loads(path.read_text()).items()}
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _reset() -> None:
    set_overrides({})
    for key in [k for k in st.session_state if str(k).startswith("set-")]:
        del st.session_state[key]


page = page_setup("Settings")
current = page.settings
st.title("Settings")
st.caption("Changes apply to your next turn, in this browser session. Defaults come from the environment "
           "(`CREW_MODEL`, `CREW_MAX_REVISIONS`, …) and `.streamlit/secrets.toml`.")

if flash := st.session_state.pop("settings_flash", None):
    st.success(plain(flash), icon=":material/check_circle:")

with st.form("settings"):
    st.subheader("Models")
    st.caption("One provider and model per role. Roles with the same model share it.")
    chosen: dict[str, str] = {}
    for role in ROLES:
        provider, rest = split_for_form(current.model_for(role))
        left, right = st.columns([1, 2])
        p = left.selectbox(plain(role.capitalize()), PROVIDERS, key=f"set-provider-{role}",
                           index=PROVIDERS.index(provider) if provider in PROVIDERS else 0)
        r = right.text_input(md("{} model", role.capitalize()), value=rest, key=f"set-model-{role}",
                             placeholder=HINTS.get(provider, ""), label_visibility="hidden")
        chosen[role] = join_spec(p, r)

    st.subheader("Limits")
    limits = {}
    cols = st.columns(3)
    for i, w in enumerate(w for w in LIMITS if w.kind != "toggle"):
        limits[w.field] = cols[i % 3].number_input(plain(w.label), min_value=w.min, max_value=w.max, step=w.step,
                                           help=plain(w.help), value=w.cast(getattr(current, w.field)),
                                           key=f"set-{w.field}")
    for w in LIMITS:
        if w.kind == "toggle":
            limits[w.field] = st.toggle(plain(w.label), value=w.cast(getattr(current, w.field)), help=plain(w.help),
                                        key=f"set-{w.field}")
    apply = st.form_submit_button("Apply to the next turn", type="primary", icon=":material/check:")

if apply:
    common = Counter(chosen.values()).most_common(1)[0][0]
    new = {**overrides(), "model": common, **{f"model_{role}": spec for role, spec in chosen.items()},
           **limits}
    try:
        models_for(Settings(**new))  # build (and cache) them now, so a bad spec is reported here
    except ModelSpecError as exc:
        st.error(md("Not applied: {}", exc), icon=":material/error:")
    except ValueError as exc:  # a setting pydantic refuses
        st.error(md("Not applied: {}", exc), icon=":material/error:")
    else:
        set_overrides(new)
        st.session_state["settings_flash"] = "Applied: your next turn uses these settings."
        st.rerun()

st.button("Reset to the defaults", on_click=_reset, icon=":material/restart_alt:",
          disabled=not overrides(), help="Forget this session's changes")

st.subheader("API keys")
st.caption("Read from the environment or `.streamlit/secrets.toml` (the environment wins) and shown masked. "
           "They are passed to the provider's client only, never stored in traces or logs. To change one, "
           "set it there and restart the app.")
secrets = _secrets_file()
base = Settings()
rows = []
for key in access_fields():  # every provider's keys and server URLs, from the providers table
    value = getattr(base, key.field)
    raw = value.get_secret_value() if key.secret and value is not None else value
    source = "environment" if os.environ.get(key.env) else (
        "secrets.toml" if secrets.get(key.field) or secrets.get(key.env.lower()) else "—")
    shown = mask_secret(raw) if key.secret else (raw or "not set")
    rows.append({"Setting": key.label, "Variable": key.env, "Value": shown, "From": source if raw else "—"})
st.dataframe(rows, hide_index=True, width="stretch")

st.subheader("Traces export (OpenTelemetry)")
st.caption("Each finished turn is also sent to this OTLP collector (Langfuse, Phoenix, Jaeger, Tempo), in the "
           "background; the app's own traces are kept either way. Set in the environment or "
           "`.streamlit/secrets.toml`; restart the app to change.")
st.dataframe([{"Setting": r.label, "Variable": r.env, "Value": r.value} for r in page_rows("traces", base)],
             hide_index=True, width="stretch")

st.subheader("Tools from MCP servers")
st.caption("Researchers may call the tools of the MCP servers listed in `CREW_MCP_SERVERS` (JSON) or in "
           "`[mcp_servers.NAME]` tables of `.streamlit/secrets.toml`: a command run over stdio, or a streamable-HTTP "
           "URL. To change them, edit that and restart the app. Keys in a server's `env` or `headers` are never shown.")
if not current.mcp_servers:
    st.caption("No MCP server is configured.")
else:
    st.button("Check again", icon=":material/refresh:", help="Connect to the servers that are not connected")
    with st.spinner("Asking the MCP servers for their tools…"):
        statuses = get_crew(current).mcp_status(current)
    st.dataframe([{
        "Server": s.name, "Transport": s.transport, "Where": s.where,
        "Workspaces": ", ".join(current.mcp_servers[s.name].workspaces or ["all"]),
        "Status": "connected" if s.connected else "unavailable",
        "Tools": ", ".join(t.name for t in s.tools), "Last error": s.error or s.last_error or "—",
    } for s in statuses], hide_index=True, width="stretch")

with st.expander("Your next turn runs with"):
    nxt = page.settings
    st.markdown(md("\n").join(md("- **{}**: {}", role, nxt.model_for(role)) for role in ROLES))
    st.markdown(md("- {}", md(", ").join(md("{} **{}**", w.label, w.shown(getattr(nxt, w.field))) for w in LIMITS)))
