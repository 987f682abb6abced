"""The model dependency graph: order, layers, neighbours and selection.

Edges exist only between known models; a dependency that names no model is
an external table and is reported by `external_dependencies`. Everything is
computed once in the constructor, so queries are dictionary lookups and
every ordering is deterministic (ties broken by name).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from interlace.engine.definition import ModelDefinition
from interlace.errors import CycleError, SelectionError

__all__ = ["ModelGraph"]


class ModelGraph:
    """An acyclic graph of models; raises `CycleError` when built on a cycle."""

    def __init__(self, models: Mapping[str, ModelDefinition]) -> None:
        self._models = dict(models)
        self._upstream: dict[str, list[str]] = {}
        self._external: dict[str, list[str]] = {}
        self._downstream: dict[str, list[str]] = {name: [] for name in models}
        for name in sorted(models):
            self._link(name, models[name])
        self._order = self._topological_order()
        self._position = {name: index for index, name in enumerate(self._order)}
        self._layers = self._compute_layers()

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __len__(self) -> int:
        return len(self._models)

    @property
    def models(self) -> dict[str, ModelDefinition]:
        return dict(self._models)

    def order(self) -> list[str]:
        """All models, upstream before downstream, ties by name."""
        return list(self._order)

    def layers(self) -> dict[str, int]:
        """Depth of each model: 0 without upstream, else 1 + deepest upstream."""
        return dict(self._layers)

    def edges(self) -> list[tuple[str, str]]:
        """`(upstream, downstream)` pairs in topological order of the target."""
        return [(up, name) for name in self._order for up in self._upstream[name]]

    def upstream(self, name: str) -> list[str]:
        """Direct upstream models of `name`, sorted."""
        return list(self._upstream[self._known(name)])

    def downstream(self, name: str) -> list[str]:
        """Direct downstream models of `name`, sorted."""
        return list(self._downstream[self._known(name)])

    def external_dependencies(self, name: str) -> list[str]:
        """Dependencies of `name` that are not models (external tables)."""
        return list(self._external[self._known(name)])

    def ancestors(self, name: str) -> set[str]:
        """Every model `name` depends on, directly or transitively."""
        return self._reach([self._known(name)], self._upstream)

    def descendants(self, name: str) -> set[str]:
        """Every model that depends on `name`, directly or transitively."""
        return self._reach([self._known(name)], self._downstream)

    def select(
        self, selectors: Sequence[str] | None, *, no_upstream: bool = False
    ) -> list[str]:
        """Resolve selectors (`name`, `+name`, `name+`, `+name+`) in order.

        None selects every model and an empty sequence none. The selection is
        then closed under upstream unless `no_upstream`. Unknown names raise
        `SelectionError` listing them all.
        """
        if selectors is None:
            return self.order()
        if not selectors:
            return []
        parsed = [_parse_selector(selector) for selector in selectors]
        invalid = [name for name, _, _ in parsed if name not in self._models]
        if invalid:
            raise SelectionError(list(dict.fromkeys(invalid)), sorted(self._models))
        chosen: set[str] = set()
        for name, with_upstream, with_downstream in parsed:
            chosen.add(name)
            if with_upstream:
                chosen |= self.ancestors(name)
            if with_downstream:
                chosen |= self.descendants(name)
        if not no_upstream:
            chosen |= self._reach(chosen, self._upstream)
        return sorted(chosen, key=self._position.__getitem__)

    def subgraph(self, names: Iterable[str]) -> ModelGraph:
        """The graph of `names` only; edges to other models become external."""
        return ModelGraph({name: self._models[self._known(name)] for name in names})

    def _link(self, name: str, definition: ModelDefinition) -> None:
        upstream, external = [], []
        for dependency in dict.fromkeys(definition.dependencies):
            if dependency in self._models:
                upstream.append(dependency)
                self._downstream[dependency].append(name)
            else:
                external.append(dependency)
        self._upstream[name] = sorted(upstream)
        self._external[name] = external

    def _topological_order(self) -> list[str]:
        remaining = {name: len(ups) for name, ups in self._upstream.items()}
        ready = [name for name, count in remaining.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for child in self._downstream[name]:
                remaining[child] -= 1
                if remaining[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) < len(self._models):
            self._raise_cycle({name for name, count in remaining.items() if count})
        return order

    def _raise_cycle(self, blocked: set[str]) -> None:
        """Find one cycle among models that never became ready and report it."""
        path: list[str] = []
        seen: dict[str, int] = {}
        name = min(blocked)
        while name not in seen:
            seen[name] = len(path)
            path.append(name)
            name = min(up for up in self._upstream[name] if up in blocked)
        # `path` follows upstream links; reverse it to read in data-flow order.
        cycle = list(reversed(path[seen[name] :]))
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        first = self._models[cycle[0]]
        raise CycleError([*cycle, cycle[0]], path=first.path, line=first.line)

    def _compute_layers(self) -> dict[str, int]:
        layers: dict[str, int] = {}
        for name in self._order:
            ups = self._upstream[name]
            layers[name] = 1 + max(layers[up] for up in ups) if ups else 0
        return layers

    def _reach(self, start: Iterable[str], links: dict[str, list[str]]) -> set[str]:
        found: set[str] = set()
        stack = [neighbour for name in start for neighbour in links[name]]
        while stack:
            name = stack.pop()
            if name not in found:
                found.add(name)
                stack.extend(links[name])
        return found

    def _known(self, name: str) -> str:
        if name not in self._models:
            raise SelectionError([name], sorted(self._models))
        return name


def _parse_selector(selector: str) -> tuple[str, bool, bool]:
    text = selector.strip()
    with_upstream = text.startswith("+")
    with_downstream = text.endswith("+") and len(text) > 1
    name = text[int(with_upstream) : len(text) - int(with_downstream)].strip()
    return name, with_upstream, with_downstream
