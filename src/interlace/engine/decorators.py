"""The `@model` and `@stream` decorators.

Decorating validates the options at once, so a bad option fails when the
model file is imported, with the file and line of the function. The function
itself is returned unchanged: calling it directly runs the user's code, and
discovery later reads the `Declaration` stored on it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar, Unpack, overload

import msgspec

from interlace.engine.definition import ModelType
from interlace.engine.options import validate_options
from interlace.errors import DiscoveryError
from interlace.retry import RetryPolicy

__all__ = [
    "DECLARATION_ATTR",
    "INJECTED_PARAMETERS",
    "MODEL_ATTR",
    "Declaration",
    "ModelOptions",
    "StreamOptions",
    "declaration_of",
    "model",
    "stream",
]

F = TypeVar("F", bound=Callable[..., Any])

DECLARATION_ATTR = "__interlace_declaration__"
MODEL_ATTR = "__interlace_model__"
"""The options exactly as passed to the decorator (a dict), for tools such as
`interlace.testing` that run a function without discovery."""
INJECTED_PARAMETERS = frozenset({"connection", "context"})


class ModelOptions(TypedDict, total=False):
    """Keyword options of `@model` (SPEC 4.2); all optional."""

    name: str
    schema: str
    connection: str
    materialise: Literal["table", "view", "ephemeral", "none"]
    materialize: Literal["table", "view", "ephemeral", "none"]
    strategy: Literal["replace", "append", "merge_by_key", "scd_type_2", "none"]
    primary_key: str | list[str]
    dependencies: list[str]
    fields: dict[str, str | type]
    strict: bool
    column_mapping: dict[str, str]
    schema_mode: Literal["strict", "safe", "flexible", "lenient", "ignore"]
    cursor: str
    schedule: dict[str, Any]
    retry: RetryPolicy | dict[str, Any]
    retry_policy: RetryPolicy | dict[str, Any]
    delete_mode: Literal["preserve", "soft", "delete_missing", "hard"]
    scd2_config: dict[str, Any]
    column_lineage: dict[str, Any]
    checks: Any
    incremental: Any
    description: str
    tags: list[str]
    owner: str


class StreamOptions(TypedDict, total=False):
    """Keyword options of `@stream` (SPEC 7.1); all optional."""

    name: str
    schema: str
    connection: str
    fields: dict[str, str | type]
    validate_schema: bool
    on_invalid: Literal["reject", "quarantine"]
    idempotency_key: str
    auth: dict[str, str]
    rate_limit: dict[str, float]
    retention: dict[str, float]
    trigger: dict[str, Any]
    max_deliveries: int
    cursor: str
    description: str
    tags: list[str]
    owner: str


class Declaration(msgspec.Struct, frozen=True, kw_only=True):
    """What a decorator learnt about a function; discovery builds on it."""

    type: ModelType
    options: dict[str, Any]
    """The options as passed (validated, not normalised)."""
    path: Path | None
    line: int | None
    description: str
    """The cleaned docstring, used when `description` is not given."""
    parameters: tuple[str, ...] = ()
    optional_parameters: frozenset[str] = frozenset()
    injects_connection: bool = False
    injects_context: bool = False


@overload
def model(fn: F, /) -> F: ...
@overload
def model(fn: None = None, /, **options: Unpack[ModelOptions]) -> Callable[[F], F]: ...
def model(fn: Any = None, /, **options: Any) -> Any:
    """Declare a Python model; usable as `@model` or `@model(...)`."""
    return _decorate(fn, options, ModelType.PYTHON)


@overload
def stream(fn: F, /) -> F: ...
@overload
def stream(
    fn: None = None, /, **options: Unpack[StreamOptions]
) -> Callable[[F], F]: ...
def stream(fn: Any = None, /, **options: Any) -> Any:
    """Declare an event stream; the function body is never executed."""
    return _decorate(fn, options, ModelType.STREAM)


def declaration_of(obj: Any) -> Declaration | None:
    """The declaration a decorator stored on `obj`, if any."""
    declaration = getattr(obj, DECLARATION_ATTR, None)
    return declaration if isinstance(declaration, Declaration) else None


def _decorate(fn: Any, options: dict[str, Any], type: ModelType) -> Any:
    if fn is None:
        return lambda function: _declare(function, options, type)
    if not callable(fn):
        caller = sys._getframe(2)
        decorator = "stream" if type is ModelType.STREAM else "model"
        raise DiscoveryError(
            f"`@{decorator}` takes keyword options only, got {fn!r}",
            path=Path(caller.f_code.co_filename),
            line=caller.f_lineno,
        )
    return _declare(fn, options, type)


def _declare(fn: Any, options: dict[str, Any], type: ModelType) -> Any:
    code = getattr(fn, "__code__", None)
    if not inspect.isfunction(fn) or code is None:
        raise DiscoveryError(f"a model must be a function, got {fn!r}")
    path, line = Path(code.co_filename), code.co_firstlineno
    if declaration_of(fn) is not None:
        raise DiscoveryError(
            f"`{fn.__name__}` is decorated twice", path=path, line=line
        )
    validate_options({"name": fn.__name__, **options}, type=type, path=path, line=line)
    declaration = Declaration(
        type=type,
        options=dict(options),
        path=path,
        line=line,
        description=inspect.getdoc(fn) or "",
        **_signature_facts(fn, type, path, line),
    )
    setattr(fn, DECLARATION_ATTR, declaration)
    setattr(fn, MODEL_ATTR, dict(options))
    return fn


def _signature_facts(
    fn: Callable[..., Any], type: ModelType, path: Path, line: int
) -> dict[str, Any]:
    """Upstream parameters and injections, from the function's signature."""
    named = [
        parameter
        for parameter in inspect.signature(fn).parameters.values()
        if parameter.kind
        not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    for parameter in named:
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise DiscoveryError(
                f"parameter `{parameter.name}` is positional-only; upstream "
                "tables are passed by name",
                path=path,
                line=line,
            )
    if type is ModelType.STREAM and named:
        raise DiscoveryError(
            f"a stream function takes no parameters, got `{named[0].name}`",
            path=path,
            line=line,
        )
    upstream = [p for p in named if p.name not in INJECTED_PARAMETERS]
    names = {parameter.name for parameter in named}
    return {
        "parameters": tuple(parameter.name for parameter in upstream),
        "optional_parameters": frozenset(
            p.name for p in upstream if p.default is not inspect.Parameter.empty
        ),
        "injects_connection": "connection" in names,
        "injects_context": "context" in names,
    }
