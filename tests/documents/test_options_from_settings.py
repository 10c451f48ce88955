"""Chunk sizes and the parsers' caps come from the Settings fields, whoever asks for them."""

from __future__ import annotations

import inspect

from crew.documents.ingest import IngestLimits, ingest_bytes
from crew.documents.parsers import ParseOptions
from crew.documents.reindex import Reindex
from crew.settings import Settings

MB = 1024 * 1024


def default(name: str):
    return Settings.model_fields[name].default


def test_parse_options_and_ingest_limits_read_the_settings():
    settings = Settings(chunk_size=500, max_csv_rows=7, docx_max_unpacked_mb=3, docx_max_ratio=9.0,
                        max_file_chunks=11, max_upload_mb=2)
    assert ParseOptions.from_settings(settings) == ParseOptions(chunk_size=500, max_csv_rows=7, zip_max_bytes=3 * MB,
                                                                zip_max_ratio=9.0)
    limits = IngestLimits.from_settings(settings)
    assert limits == IngestLimits(max_bytes=2 * MB, max_chunks=11, max_csv_rows=7, zip_max_bytes=3 * MB,
                                  zip_max_ratio=9.0)
    assert limits.parse_options(500) == ParseOptions.from_settings(settings)


def test_the_defaults_without_settings_are_the_settings_defaults():
    assert ParseOptions() == ParseOptions(chunk_size=default("chunk_size"), max_csv_rows=default("max_csv_rows"),
                                          zip_max_bytes=default("docx_max_unpacked_mb") * MB,
                                          zip_max_ratio=default("docx_max_ratio"))
    assert IngestLimits().max_chunks == default("max_file_chunks")
    for call in (ingest_bytes, Reindex):
        params = inspect.signature(call).parameters
        assert params["chunk_size"].default == default("chunk_size")
        assert params["chunk_overlap"].default == default("chunk_overlap")
