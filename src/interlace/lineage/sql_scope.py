"""Name resolution inside one SELECT: its FROM items, joins and aliases.

Resolution follows DuckDB: a qualified name looks in the named FROM item; an
unqualified name looks in every FROM item, then in the output aliases
defined to its left (`SELECT a + 1 AS b, b * 2 AS c`), then in the enclosing
query (correlated subqueries). FROM items whose columns are unknown take the
names nobody else has, with lower confidence:

- 0.8 and the traced transformation when the item is certain (qualified
  name, or the query's only FROM item) and only the column is unverified;
- 0.5 and `unknown` when the name fell to the only unknown item by
  elimination;
- 0.3 and `unknown` for each candidate when several items could hold it.
"""

from __future__ import annotations

import msgspec
from sqlglot import exp

from interlace.lineage.edges import TransformationType
from interlace.lineage.sql_relations import Origin, Relation, Traced

__all__ = ["Reference", "SelectScope", "Source", "StarColumns"]

_UNKNOWN = TransformationType.UNKNOWN
_DIRECT = TransformationType.DIRECT


class Source(msgspec.Struct, frozen=True):
    """A FROM item: its alias, relation and, for a table, the model name."""

    alias: str
    relation: Relation
    table: str | None
    semi: bool = False
    """Right side of a SEMI or ANTI join: usable in ON, never selected."""


class Reference(msgspec.Struct, frozen=True):
    """What one column reference reads."""

    name: str
    """The column name as the source spells it."""
    data_type: str | None
    origins: tuple[Origin, ...]
    join_key: bool = False
    nested: bool = False
    """A field of a struct column (`s.field`), so never a plain copy."""


class StarColumns(msgspec.Struct, frozen=True):
    """What a `*` selects; incomplete when a FROM item's columns are unknown."""

    references: list[Reference]
    complete: bool
    opaque: tuple[str, ...]
    """Tables with unknown columns that `*` passes through."""


class SelectScope:
    """The FROM items of one SELECT and the names it has defined so far."""

    def __init__(self, outer: SelectScope | None, warnings: list[str]) -> None:
        self.outer = outer
        self.warnings = warnings
        self.sources: dict[str, Source] = {}
        self.aliases: dict[str, Traced] = {}
        self._using: dict[str, list[str]] = {}
        self._join_keys: set[tuple[str, str]] = set()

    def add(self, source: Source) -> None:
        self.sources[source.alias] = source

    def add_join(self, join: exp.Join, source: Source, *, natural: bool) -> None:
        """Register the join keys of `join`, whose right side is `source`.

        A NATURAL join is a USING join on every name both sides have.
        """
        using = [identifier.name.lower() for identifier in join.args.get("using") or []]
        if natural:
            using = [
                key
                for key in source.relation.columns
                if self._listed_elsewhere(key, source.alias)
            ]
        for key in using:
            left = self._holders(key, exclude=source.alias)
            # The right side of a SEMI or ANTI join only filters: its key
            # is used in the join but its values are not selected.
            values = left if source.semi and left else [*left, source.alias]
            self._using.setdefault(key, values)
            self._join_keys.update((alias, key) for alias in [*left, source.alias])
        condition = join.args.get("on")
        if condition is not None:
            for column in condition.find_all(exp.Column):
                self._add_join_key(column)

    def resolve(self, name: str, table: str) -> Reference | None:
        """What `table.name` (or `name` when `table` is empty) refers to."""
        key = name.lower()
        if table:
            return self._qualified(key, name, table)
        if key in self._using:
            return self._using_reference(key)
        holders = [s for s in self.sources.values() if key in s.relation.columns]
        if len(holders) == 1:
            return self._read(holders[0], key, name)
        if holders:
            return self._ambiguous(holders, key, name)
        alias = self.aliases.get(key)
        if alias is not None:
            return Reference(alias.name, alias.data_type, alias.origins)
        found = self._unlisted(key, name)
        if found is None and self.outer is not None:
            return self.outer.resolve(name, table)
        return found

    def star(self, qualifier: str) -> StarColumns:
        """The columns `*` (or `qualifier.*`) selects, in order."""
        if qualifier:
            source = self.sources.get(qualifier.lower())
            if source is None:
                self.warnings.append(f"`{qualifier}.*` names no FROM item")
                return StarColumns([], False, ())
            sources = [source]
        else:
            sources = [s for s in self.sources.values() if not s.semi]
        selected: list[Reference] = []
        seen_using: set[str] = set()
        for source in sources:
            selected.extend(self._star_columns(source, bool(qualifier), seen_using))
        complete = all(source.relation.complete for source in sources)
        opaque = tuple(t for source in sources for t in source.relation.opaque)
        return StarColumns(selected, complete, opaque)

    # -- resolution ------------------------------------------------------------

    def _qualified(self, key: str, name: str, table: str) -> Reference | None:
        source = self.sources.get(table.lower())
        if source is not None:
            return self._read(source, key, name)
        if self.outer is not None:
            found = self.outer.resolve(name, table)
            if found is not None:
                return found
        return self._struct_field(table, name)

    def _read(self, source: Source, key: str, name: str) -> Reference | None:
        """`name` read from `source`, which is certain to be the right one."""
        join_key = (source.alias, key) in self._join_keys
        traced = source.relation.columns.get(key)
        if traced is not None:
            return Reference(traced.name, traced.data_type, traced.origins, join_key)
        opaque = source.relation.opaque
        if len(opaque) == 1:
            origin = Origin(opaque[0], name, _DIRECT, None, 0.8)
            return Reference(name, None, (origin,), join_key)
        if opaque:
            return Reference(name, None, _guesses(opaque, name, 0.3), join_key)
        if source.table is not None:
            # A known schema without the column: history may be stale.
            self.warnings.append(
                f"column `{name}` is not among the known columns of `{source.table}`"
            )
            origin = Origin(source.table, name, _UNKNOWN, None, 0.3)
            return Reference(name, None, (origin,), join_key)
        self.warnings.append(f"column `{name}` not found in `{source.alias}`")
        return None

    def _unlisted(self, key: str, name: str) -> Reference | None:
        """A name no listed column has: only FROM items with unknown columns
        can hold it."""
        candidates = [s for s in self.sources.values() if not s.relation.complete]
        if len(candidates) == 1 and len(self.sources) == 1:
            return self._read(candidates[0], key, name)
        tables = tuple(dict.fromkeys(t for s in candidates for t in s.relation.opaque))
        if not tables:
            return None
        confidence = 0.5 if len(tables) == 1 else 0.3
        return Reference(name, None, _guesses(tables, name, confidence))

    def _ambiguous(self, holders: list[Source], key: str, name: str) -> Reference:
        aliases = ", ".join(f"`{source.alias}`" for source in holders)
        self.warnings.append(f"column `{name}` is ambiguous between {aliases}")
        origins = tuple(
            Origin(origin.model, origin.column, _UNKNOWN, origin.node, 0.3)
            for source in holders
            for origin in source.relation.columns[key].origins
        )
        return Reference(name, None, origins)

    def _using_reference(self, key: str) -> Reference | None:
        references = [
            found
            for alias in self._using[key]
            if (found := self._read(self.sources[alias], key, key))
        ]
        if not references:
            return None
        first = references[0]
        origins = tuple(origin for ref in references for origin in ref.origins)
        return Reference(first.name, first.data_type, origins, join_key=True)

    def _struct_field(self, column: str, field: str) -> Reference | None:
        found = self.resolve(column, "")
        if found is None:
            self.warnings.append(f"`{column}.{field}` names no FROM item or column")
            return None
        return Reference(field, None, found.origins, nested=True)

    def _listed_elsewhere(self, key: str, exclude: str) -> bool:
        """Whether a FROM item other than `exclude` lists the column `key`."""
        return any(
            key in s.relation.columns
            for s in self.sources.values()
            if s.alias != exclude
        )

    def _holders(self, key: str, *, exclude: str) -> list[str]:
        others = [s for s in self.sources.values() if s.alias != exclude]
        listed = [s.alias for s in others if key in s.relation.columns]
        return listed or [s.alias for s in others if not s.relation.complete]

    def _add_join_key(self, column: exp.Column) -> None:
        key = column.name.lower()
        if column.table:
            self._join_keys.add((column.table.lower(), key))
            return
        for alias in self._holders(key, exclude=""):
            self._join_keys.add((alias, key))

    # -- stars -----------------------------------------------------------------

    def _star_columns(
        self, source: Source, qualified: bool, seen_using: set[str]
    ) -> list[Reference]:
        selected = []
        for key, traced in source.relation.columns.items():
            if not qualified and key in self._using:
                # USING columns appear once, merged from every side.
                if key not in seen_using:
                    seen_using.add(key)
                    merged = self._using_reference(key)
                    if merged is not None:
                        selected.append(merged)
                continue
            join_key = (source.alias, key) in self._join_keys
            selected.append(
                Reference(traced.name, traced.data_type, traced.origins, join_key)
            )
        return selected


def _guesses(
    tables: tuple[str, ...], name: str, confidence: float
) -> tuple[Origin, ...]:
    return tuple(Origin(table, name, _UNKNOWN, None, confidence) for table in tables)
