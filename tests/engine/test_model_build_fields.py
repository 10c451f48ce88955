"""The UI caches built models by the settings they were built from: that list must be complete.

Both lists come from the providers table; these tests read the builders' code to check the
table says what each builder really reads.
"""

import inspect
import re

from crew.models.providers import MODEL_BUILD_FIELDS, PROVIDER_TABLE, SECRET_FIELDS
from tests.servers import ROOT

SRC = ROOT / "src" / "crew"
NOT_BUILD_FIELDS = {"model_for"}  # the spec; keys are in SECRET_FIELDS (fingerprinted, not kept)


def test_every_setting_model_building_reads_is_in_the_cache_key():
    read = set()
    for module in ("models/providers.py", "models/local.py"):
        read |= set(re.findall(r"\bsettings\.(\w+)", (SRC / module).read_text()))
    assert read - NOT_BUILD_FIELDS - set(SECRET_FIELDS) == set(MODEL_BUILD_FIELDS)
    assert {"openai_api_key", "anthropic_api_key"} <= set(SECRET_FIELDS)


def test_each_providers_row_names_the_settings_its_builder_reads():
    for row in PROVIDER_TABLE:
        read = set(re.findall(r"\bsettings\.(\w+)", inspect.getsource(row.build)))
        assert read == {*row.access, *row.tuning}, row.name
