"""The UI caches built models by the settings they were built from: that list must be complete."""

import re

from crew.models.providers import MODEL_BUILD_FIELDS
from tests.servers import ROOT

SRC = ROOT / "src" / "crew"
NOT_BUILD_FIELDS = {"model_for", "openai_api_key", "anthropic_api_key"}  # the spec, and keys (fingerprinted)


def test_every_setting_model_building_reads_is_in_the_cache_key():
    read = set()
    for module in ("models/providers.py", "models/local.py"):
        read |= set(re.findall(r"\bsettings\.(\w+)", (SRC / module).read_text()))
    assert read - NOT_BUILD_FIELDS == set(MODEL_BUILD_FIELDS)
