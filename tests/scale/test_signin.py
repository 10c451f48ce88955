"""With authentication configured, a person must sign in and works only in their own workspace."""

import pytest
from streamlit.testing.v1 import AppTest

from crew.identity import workspace_for_user
from crew.retrieval.memory import WorkspaceError, check_workspace
from tests.servers import APP

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "crew-test", "client_secret": "not-a-real-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def test_each_person_gets_their_own_workspace():
    alice = workspace_for_user({"email": "Alice@Example.com", "sub": "1"})
    bob = workspace_for_user({"email": "bob@example.com", "sub": "2"})
    assert alice == "alice@example.com" and bob == "bob@example.com"
    # No email (or an unverified one): a stable hash of issuer and subject, valid as a workspace name.
    anon = workspace_for_user({"sub": "123", "iss": "https://id.example"})
    assert anon == workspace_for_user({"sub": "123", "iss": "https://id.example"})
    assert anon != workspace_for_user({"sub": "124", "iss": "https://id.example"})
    assert check_workspace(anon) == anon
    unverified = workspace_for_user({"email": "eve@example.com", "email_verified": False, "sub": "9"})
    assert unverified.startswith("u-")
    weird = workspace_for_user({"email": "a b/c@example.com", "sub": "7"})
    assert weird.startswith("u-")
    with pytest.raises(WorkspaceError):
        workspace_for_user({})


@pytest.mark.parametrize("page", ["app.py", "pages/3_Traces.py", "pages/4_Settings.py"])
def test_signed_out_people_see_only_the_sign_in_screen(page, monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(str(APP), default_timeout=60)  # the app's entry, as `streamlit run`
    at.secrets["auth"] = AUTH
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.chat_input and not at.selectbox  # no chat box, no workspace picker


def test_without_auth_the_picker_says_single_user_mode(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "Workspace" in [s.label for s in at.selectbox]
    assert any("Single-user mode" in c.value for c in at.caption)
