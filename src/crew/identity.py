"""Map a signed-in person to their workspace: one person, one private workspace."""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from crew.retrieval.memory import WorkspaceError, check_workspace


def workspace_for_user(claims: Mapping[str, Any]) -> str:
    """Name the workspace of the person an identity token describes.

    The verified email is readable in lists and traces; a subject id, or an email that is not a
    valid workspace name, becomes a stable hash, so two people can never share a name by accident.
    """
    email = str(claims.get("email") or "").strip().lower()
    if email and claims.get("email_verified", True) is not False:
        try:
            return check_workspace(email)
        except WorkspaceError:
            pass
    subject = str(claims.get("sub") or email)
    if not subject:
        raise WorkspaceError("the identity provider gave neither an email nor a subject id")
    issuer = str(claims.get("iss") or "")
    return "u-" + hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:24]
