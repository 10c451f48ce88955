"""Keep built chat models for a process: a spec built once is reused by every turn that names it.

A turn brings its own settings (a person may change models on the Settings page), so models are
looked up per turn by their spec and every setting that shapes how they are built (base URLs,
context size, keys by fingerprint), never by the keys themselves.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Callable

from langchain_core.language_models import BaseChatModel

from crew.models.providers import MODEL_BUILD_FIELDS, build_model, key_fingerprint
from crew.settings import ROLES, Role, Settings

Builder = Callable[[str, Settings], BaseChatModel]


def build_config(settings: Settings) -> str:
    """Every setting building a model reads, so a changed one builds a new model instead of reusing one."""
    return json.dumps({**settings.model_dump(include=MODEL_BUILD_FIELDS, mode="json"),
                       "keys": key_fingerprint(settings)}, sort_keys=True)


class ModelCache:
    """Built models by (spec, build settings); the oldest beyond `size` are let go."""

    def __init__(self, size: int = 8, build: Builder = build_model) -> None:
        self._size = size
        self._build = build
        self._models: OrderedDict[tuple[str, str], BaseChatModel] = OrderedDict()
        self._lock = threading.Lock()  # held while building, so the weights load once

    def model(self, spec: str, settings: Settings) -> BaseChatModel:
        key = (spec, build_config(settings))
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            model = self._build(spec, settings)  # raises ModelSpecError for a spec a person must fix
            self._models[key] = model
            while len(self._models) > self._size:
                self._models.popitem(last=False)
            return model

    def for_roles(self, settings: Settings) -> dict[Role, BaseChatModel]:
        """One model per role; roles with the same spec share it (and its weights)."""
        return {role: self.model(settings.model_for(role), settings) for role in ROLES}
