"""Name every file and folder the app keeps in its data dir, once.

Every store that lives on the local disk opens its file through `DataFiles`, so the layout of a
data dir is read here and nowhere else:

    crew.sqlite         chats and their turns, traces (two stores, one file)
    checkpoints.sqlite  LangGraph's checkpoints (a turn paused for review, or cut short)
    library.sqlite      the document library (which files each workspace holds)
    keywords.sqlite     the keyword index (FTS5) beside Chroma
    chroma/             Chroma's own files, when Chroma runs embedded
    originals/          each uploaded file's bytes, for a re-index (rows in Postgres with one)

A second backend (Postgres, a Chroma server) replaces some of these with a connection; the
ones it replaces are then never created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataFiles:
    """The paths of one data dir's files; nothing is created by naming them."""

    data_dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @classmethod
    def around_chroma(cls, chroma_dir: Path | str) -> "DataFiles":
        """The data dir whose embedded Chroma lives in `chroma_dir` (its parent, by the layout above)."""
        return cls(Path(chroma_dir).resolve().parent)

    @property
    def chats(self) -> Path:
        return self.data_dir / "crew.sqlite"

    @property
    def traces(self) -> Path:
        # Beside the chats on purpose: deleting a chat deletes its traces, in the same file.
        return self.data_dir / "crew.sqlite"

    @property
    def checkpoints(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"

    @property
    def library(self) -> Path:
        return self.data_dir / "library.sqlite"

    @property
    def keywords(self) -> Path:
        return self.data_dir / "keywords.sqlite"

    @property
    def chroma(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def originals(self) -> Path:
        return self.data_dir / "originals"
