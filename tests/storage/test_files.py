"""The data dir's layout is named once (`DataFiles`), and the stores open what it names."""

from __future__ import annotations

from pathlib import Path

from crew.storage.files import DataFiles


def test_the_layout_is_the_one_existing_data_dirs_hold(tmp_path):
    # Literal names on purpose: a data dir written by an earlier version must still be found.
    files = DataFiles(tmp_path)
    assert files.chats == files.traces == tmp_path / "crew.sqlite"
    assert files.checkpoints == tmp_path / "checkpoints.sqlite"
    assert files.library == tmp_path / "library.sqlite"
    assert files.keywords == tmp_path / "keywords.sqlite"
    assert files.chroma == tmp_path / "chroma"
    assert files.originals == tmp_path / "originals"


def test_naming_creates_nothing_and_accepts_strings(tmp_path):
    files = DataFiles(str(tmp_path / "data"))
    assert isinstance(files.data_dir, Path)
    assert files.library.parent == tmp_path / "data"
    assert not (tmp_path / "data").exists()


def test_the_keyword_index_opens_beside_the_embedded_chroma(tmp_path):
    from crew.retrieval.memory import chroma_client, keyword_index_for

    client = chroma_client(tmp_path)
    assert Path(client.get_settings().persist_directory) == DataFiles(tmp_path).chroma.resolve()
    index = keyword_index_for(client)
    try:
        assert Path(index.path) == DataFiles(tmp_path.resolve()).keywords
        assert DataFiles.around_chroma(DataFiles(tmp_path).chroma) == DataFiles(tmp_path.resolve())
    finally:
        index.close()


def test_the_library_and_its_originals_open_in_the_data_dir(tmp_path):
    from crew.documents.library import Library

    class NoMemory:  # the library only touches memory when a document goes
        pass

    library = Library.beside(tmp_path, NoMemory())  # type: ignore[arg-type]
    try:
        library.keep_original("w", "abc123", b"bytes")
        assert DataFiles(tmp_path).library.is_file()
        assert (DataFiles(tmp_path).originals / "w" / "abc123").read_bytes() == b"bytes"
    finally:
        library.close()
