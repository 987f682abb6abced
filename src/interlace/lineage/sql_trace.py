"""Trace every output column of a parsed query back to upstream columns.

The query is walked once, inside out: CTEs and FROM subqueries become
relations whose columns already point at real model columns, so an outer
query only looks names up. Nothing is rewritten, qualified or copied, which
is what keeps this fast: sqlglot's `qualify` (which `sqlglot.lineage` builds
on) rewrites the whole tree and measured slower than parsing it, and
`lineage` then walks the scopes again for every output column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import zip_longest

from sqlglot import exp

from interlace.lineage.edges import TransformationType, supersedes
from interlace.lineage.sql_relations import (
    UNKNOWN_RELATION,
    Origin,
    Relation,
    SchemaCatalog,
    Traced,
    rename_columns,
    renamed,
)
from interlace.lineage.sql_scope import Reference, SelectScope, Source
from interlace.lineage.sql_shapes import shape_of, step_kind, unwrap
from interlace.lineage.sql_types import infer_type

__all__ = ["QueryTracer"]

Env = Mapping[str, Relation]
"""CTEs visible at a point of the query, by lower-case name."""

_DIRECT = TransformationType.DIRECT


class QueryTracer:
    """Traces the queries of one model; collects warnings as it goes."""

    def __init__(self, catalog: SchemaCatalog, dialect: str) -> None:
        self.catalog = catalog
        self.dialect = dialect
        self.warnings: list[str] = []
        self._anonymous = 0

    def query(self, node: exp.Expr, env: Env, outer: SelectScope | None) -> Relation:
        """The relation a query (SELECT, set operation, parenthesised) yields."""
        if isinstance(node, exp.Subquery):
            return self.query(node.this, env, outer)
        with_ = node.args.get("with_")
        if with_ is not None:
            env = self._ctes(with_, env, outer)
        if isinstance(node, exp.Select):
            return self._select(node, env, outer)
        if isinstance(node, exp.SetOperation):
            return self._set_operation(node, env, outer)
        self.warnings.append(f"`{type(node).__name__}` queries are not traced")
        return UNKNOWN_RELATION

    # -- queries ---------------------------------------------------------------

    def _ctes(self, with_: exp.Expr, env: Env, outer: SelectScope | None) -> Env:
        recursive = bool(with_.args.get("recursive"))
        for cte in with_.expressions:
            key = cte.alias.lower()
            names = _alias_columns(cte)
            body_env = env
            if recursive:
                body_env = {**env, key: self._anchor(cte.this, env, outer, names)}
            relation = self.query(cte.this, body_env, outer)
            if names:
                relation = rename_columns(relation, names)
            env = {**env, key: relation}
        return env

    def _anchor(
        self, body: exp.Expr, env: Env, outer: SelectScope | None, names: list[str]
    ) -> Relation:
        """What a recursive CTE's own name means inside its body: the columns
        of its anchor (the first UNION branch), which the recursion extends."""
        if not isinstance(body, exp.SetOperation):
            return UNKNOWN_RELATION
        anchor = self.query(body.left, env, outer)
        return rename_columns(anchor, names) if names else anchor

    def _select(
        self, node: exp.Select, env: Env, outer: SelectScope | None
    ) -> Relation:
        scope = SelectScope(outer, self.warnings)
        from_ = node.args.get("from_")
        if from_ is not None:
            scope.add(self._source(from_.this, env, scope))
        for join in node.args.get("joins") or []:
            semi = join.kind in ("SEMI", "ANTI")
            source = self._source(join.this, env, scope, semi=semi)
            natural = join.method == "NATURAL"
            scope.add(source)
            scope.add_join(join, source, natural=natural)
        return self._projections(node.expressions, scope, env)

    def _set_operation(
        self, node: exp.SetOperation, env: Env, outer: SelectScope | None
    ) -> Relation:
        """UNION, INTERSECT, EXCEPT: every branch feeds every output column."""
        left = self.query(node.left, env, outer)
        right = self.query(node.right, env, outer)
        columns: dict[str, Traced] = {}
        for first, second in self._branch_pairs(node, left, right):
            merged = _merge_branches(first, second)
            if merged is not None:
                columns[merged.name.lower()] = merged
        opaque = tuple(dict.fromkeys(left.opaque + right.opaque))
        return Relation(columns, opaque, left.complete and right.complete)

    def _branch_pairs(
        self, node: exp.SetOperation, left: Relation, right: Relation
    ) -> list[tuple[Traced | None, Traced | None]]:
        if node.args.get("by_name"):
            keys = dict.fromkeys([*left.columns, *right.columns])
            return [(left.columns.get(key), right.columns.get(key)) for key in keys]
        if len(left.columns) != len(right.columns):
            self.warnings.append(
                f"set operation branches have {len(left.columns)} and "
                f"{len(right.columns)} columns"
            )
        pairs = zip_longest(left.columns.values(), right.columns.values())
        return [(first, second) for first, second in pairs if first is not None]

    # -- FROM items ------------------------------------------------------------

    def _source(
        self, node: exp.Expr, env: Env, scope: SelectScope, *, semi: bool = False
    ) -> Source:
        table: str | None = None
        if node.args.get("pivots"):
            self.warnings.append("PIVOT and UNPIVOT outputs are not traced")
            relation = UNKNOWN_RELATION
        elif isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            table, relation = self._table(node, env)
        elif isinstance(node, exp.Subquery | exp.Lateral) and isinstance(
            node.this, exp.Query
        ):
            relation = self.query(node.this, env, scope)
        elif isinstance(node, exp.Unnest):
            relation = self._unnest(node, scope)
        else:
            # Table functions (read_parquet, range), VALUES: no model.
            relation = UNKNOWN_RELATION
        names = _alias_columns(node)
        if names and not isinstance(node, exp.Unnest):
            relation = _named(relation, names)
        return Source(self._alias(node), relation, table, semi)

    def _table(self, node: exp.Table, env: Env) -> tuple[str | None, Relation]:
        """A CTE, a model (by its global name, whatever the schema), a file
        read by DuckDB's replacement scan (`FROM 'x.parquet'`), or another
        table."""
        name = node.name
        if not node.args.get("db") and name.lower() in env:
            return None, env[name.lower()]
        if node.this.quoted and ("/" in name or "." in name):
            return None, UNKNOWN_RELATION
        return self.catalog.table(name)

    def _alias(self, node: exp.Expr) -> str:
        alias = node.alias or (node.name if isinstance(node, exp.Table) else "")
        if alias:
            return alias.lower()
        self._anonymous += 1
        return f"_subquery_{self._anonymous}"

    def _unnest(self, node: exp.Unnest, scope: SelectScope) -> Relation:
        origins = self._read_columns(shape_of(node).columns, scope, {})
        origins = _through(origins, TransformationType.DERIVED, node)
        names = _alias_columns(node) or ["unnest"]
        return Relation({name.lower(): Traced(name, None, origins) for name in names})

    # -- projections -----------------------------------------------------------

    def _projections(
        self, projections: list[exp.Expr], scope: SelectScope, env: Env
    ) -> Relation:
        columns: dict[str, Traced] = {}
        opaque: list[str] = []
        complete = True
        for projection in projections:
            star = _star(projection)
            if star is not None:
                traced, star_complete, star_opaque = self._star(star, scope, env)
                complete = complete and star_complete
                opaque.extend(star_opaque)
            elif isinstance(unwrap(projection), exp.Columns):
                self.warnings.append("`COLUMNS(...)` is not traced")
                traced, complete = [], False
            else:
                traced = [self._projection(projection, scope, env)]
                scope.aliases.setdefault(traced[0].name.lower(), traced[0])
            for column in traced:
                _add_unique(columns, column)
        return Relation(columns, tuple(dict.fromkeys(opaque)), complete)

    def _projection(self, projection: exp.Expr, scope: SelectScope, env: Env) -> Traced:
        expression = (
            projection.this if isinstance(projection, exp.Alias) else projection
        )
        alias = projection.alias if isinstance(projection, exp.Alias) else ""
        base = unwrap(expression)
        if isinstance(base, exp.Column):
            return self._column(base, alias, expression, scope)
        shape = shape_of(expression)
        kind = step_kind(expression, shape) or TransformationType.DERIVED
        types: dict[int, str | None] = {}
        origins = self._read_columns(shape.columns, scope, types)
        data_type = infer_type(expression, types)
        for subquery in shape.subqueries:
            first = next(iter(self.query(subquery, env, scope).columns.values()), None)
            if first is not None:
                origins += first.origins
                if unwrap(expression) is subquery:
                    data_type = first.data_type
        name = alias or self._default_name(expression)
        return Traced(name, data_type, _through(origins, kind, expression))

    def _column(
        self, column: exp.Column, alias: str, expression: exp.Expr, scope: SelectScope
    ) -> Traced:
        reference = scope.resolve(column.name, column.table)
        name = alias or column.name
        if reference is None:
            self._unresolved(column)
            return Traced(name, None, ())
        kind = _column_kind(name, reference)
        return Traced(
            name, reference.data_type, _through(reference.origins, kind, expression)
        )

    def _read_columns(
        self,
        columns: list[exp.Column],
        scope: SelectScope,
        types: dict[int, str | None],
    ) -> tuple[Origin, ...]:
        origins: list[Origin] = []
        for column in columns:
            reference = scope.resolve(column.name, column.table)
            if reference is None:
                self._unresolved(column)
                continue
            types[id(column)] = reference.data_type
            origins.extend(reference.origins)
        return tuple(origins)

    def _star(
        self, star: tuple[str, exp.Star], scope: SelectScope, env: Env
    ) -> tuple[list[Traced], bool, tuple[str, ...]]:
        qualifier, node = star
        found = scope.star(qualifier)
        if not found.complete:
            tables = ", ".join(f"`{table}`" for table in found.opaque) or "a FROM item"
            self.warnings.append(f"`*` over {tables} lists only the known columns")
        modifiers = _StarModifiers(node)
        selected = []
        for reference in found.references:
            key = reference.name.lower()
            if not modifiers.keeps(reference.name):
                continue
            replacement = modifiers.replace.get(key)
            if replacement is not None:
                selected.append(self._projection(replacement, scope, env))
                continue
            name = modifiers.rename.get(key, reference.name)
            kind = _column_kind(name, reference)
            selected.append(
                Traced(
                    name, reference.data_type, _through(reference.origins, kind, None)
                )
            )
        return selected, found.complete, found.opaque

    def _unresolved(self, column: exp.Column) -> None:
        self.warnings.append(
            f"column `{column.sql(dialect=self.dialect)}` could not be resolved"
        )

    def _default_name(self, expression: exp.Expr) -> str:
        """The name DuckDB gives an expression without alias (approximately)."""
        if isinstance(expression, exp.Count) and isinstance(expression.this, exp.Star):
            return "count_star()"
        return expression.sql(dialect=self.dialect, normalize_functions="lower")


class _StarModifiers:
    """DuckDB's `* EXCLUDE (...)`, `REPLACE (...)`, `RENAME (...)`, `ILIKE`."""

    def __init__(self, star: exp.Star) -> None:
        args = star.args
        self.exclude = {column.name.lower() for column in args.get("except_") or []}
        self.replace = {item.alias.lower(): item for item in args.get("replace") or []}
        self.rename = {
            item.this.name.lower(): item.alias for item in args.get("rename") or []
        }
        pattern = args.get("ilike")
        self.pattern = None if pattern is None else _like_pattern(pattern.name)

    def keeps(self, name: str) -> bool:
        if name.lower() in self.exclude:
            return False
        return self.pattern is None or bool(self.pattern.fullmatch(name))


def _like_pattern(text: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in text)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _star(projection: exp.Expr) -> tuple[str, exp.Star] | None:
    if isinstance(projection, exp.Star):
        return "", projection
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
        return projection.table, projection.this
    return None


def _column_kind(name: str, reference: Reference) -> TransformationType:
    if reference.nested:
        return TransformationType.DERIVED
    if reference.join_key:
        return TransformationType.JOINED
    if name.lower() != reference.name.lower():
        return TransformationType.RENAMED
    return _DIRECT


def _through(
    origins: Iterable[Origin], kind: TransformationType, node: exp.Expr | None
) -> tuple[Origin, ...]:
    """Origins after one more step `kind` (whose expression is `node`)."""
    stepped = []
    for origin in origins:
        if supersedes(kind, origin.kind) and (
            node is not None or origin.kind is not kind
        ):
            origin = Origin(
                origin.model,
                origin.column,
                kind,
                node if node is not None else origin.node,
                origin.confidence,
            )
        stepped.append(origin)
    return tuple(stepped)


def _merge_branches(first: Traced | None, second: Traced | None) -> Traced | None:
    """One output column of a set operation from its branch columns."""
    if first is None or second is None:
        return first or second
    # Later branches are matched by position: a column named otherwise
    # there is renamed into the output.
    origins = second.origins
    if second.name.lower() != first.name.lower():
        origins = renamed(origins)
    data_type = first.data_type or second.data_type
    return Traced(first.name, data_type, first.origins + origins)


def _add_unique(columns: dict[str, Traced], column: Traced) -> None:
    """Add `column`, renamed `name_1`, `name_2`... as DuckDB does on clashes."""
    key = column.name.lower()
    if key in columns:
        suffix = 1
        while f"{key}_{suffix}" in columns:
            suffix += 1
        name = f"{column.name}_{suffix}"
        column = Traced(name, column.data_type, renamed(column.origins))
        key = name.lower()
    columns[key] = column


def _alias_columns(node: exp.Expr) -> list[str]:
    alias = node.args.get("alias")
    if isinstance(alias, exp.TableAlias):
        return [column.name for column in alias.columns]
    return []


def _named(relation: Relation, names: list[str]) -> Relation:
    if relation.columns or relation.opaque:
        return rename_columns(relation, names)
    # A table function or VALUES with a column list: names known, no origins.
    return Relation({name.lower(): Traced(name, None, ()) for name in names})
