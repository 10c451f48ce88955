"""Keep each uploaded file's original bytes, so a workspace can be read again by a newer parser or
embedded again by another model (`crew reindex`) without asking anyone to upload anything.

`OriginalStore` (crew.storage.protocols) is what the library needs; `FileOriginals` keeps the bytes as
files under the data dir (`originals/<workspace>/<doc_id>`), the embedded default; with Postgres they are
rows there (`crew.storage.pg_originals.PgOriginals`), so any instance can re-index any upload.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crew.retrieval.memory import check_workspace
from crew.storage.protocols import OriginalStore

__all__ = ["FileOriginals", "OriginalStore"]


class FileOriginals:
    """Original files on disk, one per document, written whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, workspace: str, doc_id: str) -> Path:
        if not doc_id or not doc_id.isalnum():  # doc ids are hex digests; anything else is not ours
            raise ValueError(f"bad document id {doc_id!r}")
        return self.root / check_workspace(workspace) / doc_id

    def put(self, workspace: str, doc_id: str, data: bytes) -> None:
        path = self._path(workspace, doc_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)  # a reader sees the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, workspace: str, doc_id: str) -> bytes | None:
        try:
            return self._path(workspace, doc_id).read_bytes()
        except FileNotFoundError:
            return None

    def has(self, workspace: str, doc_id: str) -> bool:
        """Whether a document's bytes are kept, without reading them."""
        return self._path(workspace, doc_id).is_file()

    def delete(self, workspace: str, doc_id: str) -> None:
        self._path(workspace, doc_id).unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing held open between calls."""
