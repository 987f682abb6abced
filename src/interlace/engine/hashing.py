"""Definition hashes for change detection (SPEC 4.10).

`code_hash` covers what the model computes: the normalised SQL, or the
dedented source of a Python function *without its decorators*, because the
decorator holds options that `config_hash` already covers (or metadata, which
must not trigger a re-run). `config_hash` covers the options that change what
is written, plus the hashes of ephemeral upstreams, which are recomputed
inside every dependant and so are part of its definition.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.engine.dependencies import normalise_sql

if TYPE_CHECKING:
    from interlace.engine.graph import ModelGraph

__all__ = ["code_hash", "config_hash", "definition_hashes", "function_source"]

_CONFIG_FIELDS = (
    "schema", "connection", "materialise", "strategy", "primary_key",
    "dependencies", "fields", "strict", "column_mapping", "schema_mode",
    "cursor", "delete_mode", "scd2_config",
)  # fmt: skip
_encoder = msgspec.json.Encoder(order="sorted")


def code_hash(definition: ModelDefinition, dialect: str = "duckdb") -> str:
    """sha256 of the normalised SQL or of the function's source."""
    if definition.sql is not None:
        text = normalise_sql(definition.sql, dialect)
    elif definition.function is not None:
        text = function_source(definition.function)
    else:
        text = ""
    return _sha256(text.encode())


def config_hash(
    definition: ModelDefinition, ephemeral_upstream_hashes: Mapping[str, str]
) -> str:
    """sha256 of the canonical JSON of the write-relevant options."""
    payload: dict[str, Any] = {
        field: getattr(definition, field) for field in _CONFIG_FIELDS
    }
    payload["ephemeral_upstreams"] = dict(ephemeral_upstream_hashes)
    return _sha256(_encoder.encode(payload))


def definition_hashes(
    models: Mapping[str, ModelDefinition],
    graph: ModelGraph,
    dialects: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, str]]:
    """`(code_hash, config_hash)` of every model.

    Models are visited upstream first, so an ephemeral upstream's config hash
    already folds in its own ephemeral upstreams: a change anywhere along an
    ephemeral chain reaches every dependant. `dialects` maps model names to
    their connection's SQL dialect (default `duckdb`).
    """
    dialects = dialects or {}
    hashes: dict[str, tuple[str, str]] = {}
    for name in graph.order():
        definition = models[name]
        folded = {
            up: ":".join(hashes[up])
            for up in graph.upstream(name)
            if models[up].materialise is Materialise.EPHEMERAL
        }
        hashes[name] = (
            code_hash(definition, dialects.get(name, "duckdb")),
            config_hash(definition, folded),
        )
    return hashes


def function_source(function: Callable[..., Any]) -> str:
    """The dedented source of `function` from its `def` line on.

    Falls back to the compiled bytecode when the source is unavailable
    (functions defined in an interactive session).
    """
    try:
        lines, _ = inspect.getsourcelines(function)
    except (OSError, TypeError):
        code = function.__code__
        return repr((code.co_code, code.co_consts, code.co_names))
    source = textwrap.dedent("".join(lines))
    return _without_decorators(source)


def _without_decorators(source: str) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return source
    return "".join(source.splitlines(keepends=True)[node.lineno - 1 :])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
