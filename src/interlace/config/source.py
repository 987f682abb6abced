"""Reading YAML configuration files while remembering where each key came from.

Validation happens after overlays are merged and strings interpolated, when
the YAML nodes are long gone. To still point at the offending line, the
reader returns a `Positions` map from key paths to file locations alongside
the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from interlace.errors import ConfigError

__all__ = ["KeyPath", "Location", "Positions", "read_yaml"]

KeyPath = tuple[str | int, ...]
Location = tuple[Path, int, int]
"""File, 1-based line, 1-based column."""


class Positions:
    """Where each key path was written, overlay files shadowing the base."""

    def __init__(self) -> None:
        self._locations: dict[KeyPath, Location] = {}

    def record(self, key_path: KeyPath, location: Location) -> None:
        self._locations[key_path] = location

    def update(self, other: Positions) -> None:
        self._locations.update(other._locations)

    def locate(self, key_path: KeyPath) -> Location | None:
        """The location of `key_path`, else of its nearest recorded parent."""
        for end in range(len(key_path), 0, -1):
            location = self._locations.get(key_path[:end])
            if location is not None:
                return location
        return None


def read_yaml(path: Path) -> tuple[Any, Positions]:
    """Parse one YAML file; an empty file reads as an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path=path) from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from exc
    finally:
        loader.dispose()
    positions = Positions()
    if node is not None:
        _record(node, (), path, positions)
    return ({} if data is None else data), positions


def _yaml_error(exc: yaml.MarkedYAMLError, path: Path) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return ConfigError(f"invalid YAML: {problem}", path=path)
    return ConfigError(
        f"invalid YAML: {problem}",
        path=path,
        line=mark.line + 1,
        column=mark.column + 1,
    )


def _record(node: yaml.Node, prefix: KeyPath, path: Path, out: Positions) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key_path = (*prefix, str(key_node.value))
            mark = key_node.start_mark
            out.record(key_path, (path, mark.line + 1, mark.column + 1))
            _record(value_node, key_path, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key_path = (*prefix, index)
            mark = item.start_mark
            out.record(key_path, (path, mark.line + 1, mark.column + 1))
            _record(item, key_path, path, out)
