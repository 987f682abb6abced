"""Test helpers: run a model as the executor would, without a project.

`mock_dependency` turns any supported return value into a `Table`;
`test_model` / `test_model_sync` / `test_sql_model` run a model against
such tables in a private in-memory DuckDB (injection, return handling,
`column_mapping`, `fields`, `strict`, the model's materialisation) and
return a `TestResult` instead of raising. The pytest fixtures live in
`interlace.testing.fixtures`, registered as a pytest plugin.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow as pa

from interlace.engine.context import RunContext
from interlace.engine.decorators import INJECTED_PARAMETERS, MODEL_ATTR, declaration_of
from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.options import ModelDefaults, build_definition
from interlace.engine.sql_models import parse_sql_text
from interlace.errors import TaskError
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.identifiers import qualified
from interlace.warehouse.inputs import UpstreamRef, bind_inputs
from interlace.warehouse.invoke import call_model, sql_result
from interlace.warehouse.materialise import materialise
from interlace.warehouse.scratch import scratch_relation
from interlace.warehouse.table import Table

if TYPE_CHECKING:
    import pandas

__all__ = [
    "TestResult",
    "mock_dependency",
    "test_model",
    "test_model_sync",
    "test_sql_model",
]

_DEPS_SCHEMA = "_interlace_test_deps"
_RUN_ID = "run_test"


class TestResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of running one model in isolation."""

    __test__ = False

    status: str
    """`success` or `error`."""
    error: BaseException | None = None
    duration: float = 0.0
    """Seconds spent running and materialising the model."""
    row_count: int | None = None
    """Rows in the model's output; None when it returned None."""
    columns: list[str] = msgspec.field(default_factory=list)
    table: Table | None = None
    """The output as a `Table` (over the private test database)."""
    arrow: pa.Table | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The output as a list of dicts (empty when nothing was returned)."""
        return [] if self.arrow is None else self.arrow.to_pylist()

    @property
    def df(self) -> pandas.DataFrame:
        """The output as a pandas DataFrame (extra `pandas`)."""
        if self.table is None:
            raise TaskError("the model returned nothing; there is no DataFrame")
        return self.table.df()


def mock_dependency(
    data: Any,
    fields: Mapping[str, str | type] | None = None,
    strict: bool = False,
) -> Table:
    """A `Table` over an in-memory DuckDB table built from `data` (§4.5)."""
    if isinstance(data, Table) and fields is None:
        return data
    warehouse = DuckDBWarehouse(":memory:")
    name = f"mock_{secrets.token_hex(4)}"
    definition = _plain_definition(name, fields=fields, strict=strict)
    cursor = warehouse.cursor()
    materialise(warehouse, cursor, definition, data, run_id=_RUN_ID, cancelled=_never)
    return Table(cursor, name, query=f"SELECT * FROM {qualified('main', name)}")


async def test_model(
    fn: Callable[..., Any],
    deps: Mapping[str, Any] | None = None,
    fields: Mapping[str, Mapping[str, str | type]] | None = None,
    context: RunContext | None = None,
) -> TestResult:
    """Run a Python model in isolation; see `test_model_sync`."""
    return await asyncio.to_thread(test_model_sync, fn, deps, fields, context)


def test_model_sync(
    fn: Callable[..., Any],
    deps: Mapping[str, Any] | None = None,
    fields: Mapping[str, Mapping[str, str | type]] | None = None,
    context: RunContext | None = None,
) -> TestResult:
    """Run a Python model against `deps` (name -> data or `Table`).

    `fields` optionally declares the types of raw dependency data, per
    dependency name. Exceptions are captured in the result.
    """
    started = time.perf_counter()
    try:
        definition = _python_definition(fn)
        return _run(definition, deps or {}, fields or {}, context, started)
    except Exception as exc:  # noqa: BLE001 - capturing failures is the point
        return TestResult(status="error", error=exc, duration=_since(started))


def test_sql_model(
    path_or_sql: str | Path,
    deps: Mapping[str, Any] | None = None,
    fields: Mapping[str, Mapping[str, str | type]] | None = None,
) -> TestResult:
    """Run a SQL model (a `.sql` file or query text, header allowed).

    A file with several models runs its first one.
    """
    started = time.perf_counter()
    try:
        definition = _sql_definition(path_or_sql)
        return _run(definition, deps or {}, fields or {}, None, started)
    except Exception as exc:  # noqa: BLE001 - capturing failures is the point
        return TestResult(status="error", error=exc, duration=_since(started))


# Keep pytest from collecting the helpers as tests in modules importing them.
test_model.__test__ = False  # type: ignore[attr-defined]
test_model_sync.__test__ = False  # type: ignore[attr-defined]
test_sql_model.__test__ = False  # type: ignore[attr-defined]


def _run(
    definition: ModelDefinition,
    deps: Mapping[str, Any],
    fields: Mapping[str, Mapping[str, str | type]],
    context: RunContext | None,
    started: float,
) -> TestResult:
    warehouse = DuckDBWarehouse(":memory:")
    cursor = warehouse.cursor()
    refs = _load_dependencies(warehouse, definition, deps, fields)
    tables = bind_inputs(cursor, refs, cancelled=_never, model=definition.name)
    if definition.type is ModelType.SQL:
        value: Any = sql_result(definition, cursor)
    else:
        context = context or _context(definition)
        value = call_model(definition, tables, cursor, context)
    materialise(warehouse, cursor, definition, value, run_id=_RUN_ID, cancelled=_never)
    if value is None:
        return TestResult(status="success", duration=_since(started))
    output = Table(
        cursor, definition.name, query=f"SELECT * FROM {_output(definition)}"
    )
    data = output.arrow()
    return TestResult(
        status="success",
        duration=_since(started),
        row_count=data.num_rows,
        columns=list(data.column_names),
        table=output,
        arrow=data,
    )


def _load_dependencies(
    warehouse: DuckDBWarehouse,
    definition: ModelDefinition,
    deps: Mapping[str, Any],
    fields: Mapping[str, Mapping[str, str | type]],
) -> list[UpstreamRef]:
    """Copy each dependency into the test database; one ref per upstream."""
    refs = []
    names = dict.fromkeys([*definition.dependencies, *definition.parameters, *deps])
    cursor = warehouse.cursor()
    for name in names:
        source = qualified(_DEPS_SCHEMA, name)
        if name in deps:
            data = deps[name]
            if isinstance(data, Table):
                data = data.arrow()
            loader = _plain_definition(
                name, fields=fields.get(name), schema=_DEPS_SCHEMA
            )
            materialise(
                warehouse, cursor, loader, data, run_id=_RUN_ID, cancelled=_never
            )
        optional = name in definition.optional_parameters
        refs.append(UpstreamRef(name=name, source_sql=source, optional=optional))
    return refs


def _output(definition: ModelDefinition) -> str:
    if definition.materialise in (Materialise.EPHEMERAL, Materialise.NONE):
        return scratch_relation(_RUN_ID, definition.name)
    return qualified(definition.schema, definition.name)


def _python_definition(fn: Callable[..., Any]) -> ModelDefinition:
    declaration = declaration_of(fn)
    if declaration is not None:
        options: dict[str, Any] = dict(declaration.options)
        facts: dict[str, Any] = {
            "parameters": declaration.parameters,
            "optional_parameters": declaration.optional_parameters,
            "injects_connection": declaration.injects_connection,
            "injects_context": declaration.injects_context,
        }
    else:
        options = dict(getattr(fn, MODEL_ATTR, None) or {})
        facts = _signature_facts(fn)
    return build_definition(
        options,
        type=ModelType.PYTHON,
        name_default=getattr(fn, "__name__", "model"),
        path=None,
        line=None,
        defaults=ModelDefaults(),
        inferred_dependencies=facts["parameters"],
        attributes={"function": fn, **facts},
    )


def _signature_facts(fn: Callable[..., Any]) -> dict[str, Any]:
    """Upstream parameters and injections of an undecorated function."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    named = [
        parameter
        for parameter in inspect.signature(fn).parameters.values()
        if parameter.kind not in variadic
    ]
    upstream = [p for p in named if p.name not in INJECTED_PARAMETERS]
    return {
        "parameters": tuple(p.name for p in upstream),
        "optional_parameters": frozenset(
            p.name for p in upstream if p.default is not inspect.Parameter.empty
        ),
        "injects_connection": any(p.name == "connection" for p in named),
        "injects_context": any(p.name == "context" for p in named),
    }


def _sql_definition(path_or_sql: str | Path) -> ModelDefinition:
    path = Path(path_or_sql) if _is_sql_file(path_or_sql) else None
    text = path.read_text(encoding="utf-8") if path else str(path_or_sql)
    where = path or Path("<sql>")
    spec = parse_sql_text(text, where)[0]
    return build_definition(
        spec.options,
        type=ModelType.SQL,
        name_default=path.stem if path else "sql_model",
        path=path,
        line=spec.line,
        defaults=ModelDefaults(),
        attributes={"sql": spec.sql},
    )


def _is_sql_file(path_or_sql: str | Path) -> bool:
    if isinstance(path_or_sql, Path):
        return True
    text = path_or_sql.strip()
    return "\n" not in text and text.lower().endswith(".sql") and Path(text).is_file()


def _plain_definition(
    name: str,
    *,
    fields: Mapping[str, str | type] | None,
    strict: bool = False,
    schema: str = "main",
) -> ModelDefinition:
    options: dict[str, Any] = {"schema": schema, "strict": strict}
    if fields:
        options["fields"] = dict(fields)
    return build_definition(
        options,
        type=ModelType.PYTHON,
        name_default=name,
        path=None,
        line=None,
        defaults=ModelDefaults(),
    )


def _context(definition: ModelDefinition) -> RunContext:
    return RunContext(
        run_id=_RUN_ID,
        task_id=f"task_{secrets.token_hex(6)}",
        model=definition.name,
        trigger_type="cli",
    )


def _never() -> bool:
    return False


def _since(started: float) -> float:
    return time.perf_counter() - started
