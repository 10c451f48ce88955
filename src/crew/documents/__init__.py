"""Turn files into searchable passages: parsers, ingest, the library, background uploads, re-index."""
