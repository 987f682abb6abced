"""A loaded project: configuration, models, graph and definition hashes.

Loading reads files only. It imports model files but calls no model
function, and it opens neither the warehouse nor the state store, so it is
safe for `info`, `plan`, `graph` and the API to load a project at any time.
"""

from __future__ import annotations

from pathlib import Path

from interlace.config import ProjectConfig, load_config
from interlace.engine.definition import ModelDefinition
from interlace.engine.discovery import discover, sql_dialect
from interlace.engine.graph import ModelGraph
from interlace.engine.hashing import definition_hashes
from interlace.errors import SelectionError

__all__ = ["Project"]


class Project:
    """An immutable snapshot of one project in one environment."""

    __slots__ = ("_config", "_graph", "_hashes", "_models")

    def __init__(
        self,
        config: ProjectConfig,
        models: dict[str, ModelDefinition],
        graph: ModelGraph,
        hashes: dict[str, tuple[str, str]],
    ) -> None:
        self._config = config
        self._models = dict(models)
        self._graph = graph
        self._hashes = dict(hashes)

    @classmethod
    def load(cls, project_dir: Path | str, env: str | None = None) -> Project:
        """Load the configuration, discover models, build the graph, hash."""
        config = load_config(Path(project_dir), env)
        models = discover(config)
        graph = ModelGraph(models)
        dialects = {
            name: sql_dialect(definition, config) for name, definition in models.items()
        }
        return cls(config, models, graph, definition_hashes(models, graph, dialects))

    @property
    def config(self) -> ProjectConfig:
        return self._config

    @property
    def models(self) -> dict[str, ModelDefinition]:
        """Definitions by name, sorted by name; shared, so never mutate it."""
        return self._models

    @property
    def graph(self) -> ModelGraph:
        return self._graph

    @property
    def hashes(self) -> dict[str, tuple[str, str]]:
        """`(code_hash, config_hash)` by model name; shared, never mutate it."""
        return self._hashes

    def model(self, name: str) -> ModelDefinition:
        """The definition of `name`; unknown names raise `SelectionError`."""
        definition = self._models.get(name)
        if definition is None:
            raise SelectionError([name], sorted(self._models))
        return definition

    def __repr__(self) -> str:
        return (
            f"Project({self._config.name!r}, env={self._config.env!r}, "
            f"models={len(self._models)})"
        )
