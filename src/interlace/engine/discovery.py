"""Discovery: turning the models directory into `ModelDefinition`s (SPEC 4.1).

Python files are imported as modules of a synthetic package,
`interlace_models.<relative dotted path>`, served by a finder that reads the
files fresh every time: no bytecode cache is consulted, so an edit is seen
even within the same second, and re-discovery in one process re-imports
every file. The models directory and its parent are appended to `sys.path`
so that model files can import their siblings (`import helpers` or
`from models import helpers`); modules imported that way from inside the
models directory are purged before each discovery as well.

Discovery imports model files but never calls model functions.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from interlace.config import ProjectConfig, interpolate, set_current
from interlace.engine.decorators import Declaration, declaration_of
from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.dependencies import sql_dependencies
from interlace.engine.options import ModelDefaults, build_definition
from interlace.engine.sql_models import SqlModelSpec, parse_sql_file
from interlace.errors import ConfigError, DiscoveryError

__all__ = ["PACKAGE", "discover", "model_files", "sql_dialect"]

PACKAGE = "interlace_models"
_lock = threading.Lock()


def discover(config: ProjectConfig) -> dict[str, ModelDefinition]:
    """Every model of the project, sorted by name.

    The configuration is published as `interlace.config` first, because
    model files may read it at import time.
    """
    models_dir = config.models_dir
    if not models_dir.is_dir():
        raise ConfigError(
            f"models directory not found: {models_dir} (config key `models_dir`)",
            path=config.files[0] if config.files else None,
        )
    set_current(config)
    defaults = ModelDefaults.from_config(config)
    found: list[ModelDefinition] = []
    python_files, sql_files = model_files(models_dir)
    with _lock:
        _FINDER.activate(models_dir)
        for path in python_files:
            found.extend(_python_models(path, models_dir, defaults))
    for path in sql_files:
        found.extend(_sql_models(path, config, defaults))
    models = _unique(found)
    for definition in models.values():
        _check_connection(definition, config)
    return {
        name: _resolve_stream_secrets(models[name], config) for name in sorted(models)
    }


def model_files(models_dir: Path) -> tuple[list[Path], list[Path]]:
    """`(python_files, sql_files)` under `models_dir`, sorted.

    Skipped: `test_*.py`, `__init__.py` (package code, not models) and
    anything inside hidden directories or `__pycache__`.
    """
    python_files, sql_files = [], []
    for path in sorted(models_dir.rglob("*")):
        relative = path.relative_to(models_dir)
        if any(part.startswith((".", "__pycache__")) for part in relative.parts):
            continue
        if path.suffix == ".py" and path.is_file():
            if not path.name.startswith("test_") and path.name != "__init__.py":
                python_files.append(path)
        elif path.suffix == ".sql" and path.is_file():
            sql_files.append(path)
    return python_files, sql_files


# -- Python models -----------------------------------------------------------


def _python_models(
    path: Path, models_dir: Path, defaults: ModelDefaults
) -> list[ModelDefinition]:
    module = _import(path, models_dir)
    functions = [
        value
        for value in vars(module).values()
        if getattr(value, "__module__", None) == module.__name__
        and declaration_of(value) is not None
    ]
    functions.sort(key=lambda function: function.__code__.co_firstlineno)
    return [_python_definition(function, defaults) for function in functions]


def _python_definition(function: object, defaults: ModelDefaults) -> ModelDefinition:
    declaration = declaration_of(function)
    assert declaration is not None
    options = {"description": declaration.description, **declaration.options}
    return build_definition(
        options,
        type=declaration.type,
        name_default=getattr(function, "__name__", ""),
        path=declaration.path,
        line=declaration.line,
        defaults=defaults,
        inferred_dependencies=_inferred(declaration),
        attributes={
            "function": function,
            "parameters": declaration.parameters,
            "optional_parameters": declaration.optional_parameters,
            "injects_connection": declaration.injects_connection,
            "injects_context": declaration.injects_context,
        },
    )


def _inferred(declaration: Declaration) -> Sequence[str]:
    return () if declaration.type is ModelType.STREAM else declaration.parameters


def _import(path: Path, models_dir: Path) -> ModuleType:
    relative = path.relative_to(models_dir).with_suffix("")
    name = ".".join((PACKAGE, *relative.parts))
    try:
        return importlib.import_module(name)
    except DiscoveryError:
        raise
    except (Exception, SystemExit) as exc:
        # SystemExit too: a model file calling sys.exit() must not end the
        # process that is discovering it.
        raise _import_error(exc, path, models_dir) from exc


def _import_error(exc: BaseException, path: Path, models_dir: Path) -> DiscoveryError:
    """Point at the innermost line inside the models directory that failed."""
    where, line = path, None
    if isinstance(exc, SyntaxError) and exc.filename:
        where, line = Path(exc.filename), exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).is_relative_to(models_dir):
                where, line = Path(frame.filename), frame.lineno
    message = f"cannot import `{path.name}`: {type(exc).__name__}: {exc}"
    return DiscoveryError(message, path=where, line=line)


# -- SQL models ----------------------------------------------------------------


def _sql_models(
    path: Path, config: ProjectConfig, defaults: ModelDefaults
) -> list[ModelDefinition]:
    return [
        _sql_definition(spec, path, config, defaults) for spec in parse_sql_file(path)
    ]


def _sql_definition(
    spec: SqlModelSpec, path: Path, config: ProjectConfig, defaults: ModelDefaults
) -> ModelDefinition:
    definition = build_definition(
        spec.options,
        type=ModelType.SQL,
        name_default=path.stem,
        path=path,
        line=spec.line,
        defaults=defaults,
        attributes={"sql": spec.sql},
    )
    if definition.dependencies_declared:
        return definition
    try:
        inferred = sql_dependencies(spec.sql, sql_dialect(definition, config))
    except ValueError as exc:
        raise DiscoveryError(
            f"cannot parse the query: {exc}",
            path=path,
            line=spec.sql_line,
            model=definition.name,
        ) from exc
    # A query may read its own previous output (incremental logic); that is
    # not an edge, or every such model would be a cycle of one.
    dependencies = tuple(name for name in inferred if name != definition.name)
    return _replace(definition, dependencies=dependencies)


def sql_dialect(definition: ModelDefinition, config: ProjectConfig) -> str:
    """The sqlglot dialect of the connection `definition` runs on."""
    name = definition.connection or config.default_connection
    connection = config.connections.get(name)
    return "postgres" if connection and connection.type == "postgres" else "duckdb"


def _replace(definition: ModelDefinition, **changes: object) -> ModelDefinition:
    return msgspec.structs.replace(definition, **changes)


# -- checks across models ------------------------------------------------------


def _unique(definitions: list[ModelDefinition]) -> dict[str, ModelDefinition]:
    models: dict[str, ModelDefinition] = {}
    for definition in definitions:
        first = models.get(definition.name)
        if first is not None:
            raise DiscoveryError(
                f"model `{definition.name}` is defined twice: at "
                f"{_where(first)} and at {_where(definition)}",
                path=definition.path,
                line=definition.line,
                model=definition.name,
            )
        models[definition.name] = definition
    return models


def _resolve_stream_secrets(
    definition: ModelDefinition, config: ProjectConfig
) -> ModelDefinition:
    """Interpolate `${NAME}` in a stream's `auth`, as in `config.yaml`.

    Unset variables stay verbatim (with a warning), so the service can refuse
    a token that still contains `${`.
    """
    options = definition.stream_options
    if not options or not options.get("auth"):
        return definition
    auth = interpolate(
        options["auth"],
        env=config.env,
        environ=os.environ,
        where=f"{definition.name}.auth",
    )
    return _replace(definition, stream_options={**options, "auth": auth})


def _where(definition: ModelDefinition) -> str:
    return f"{definition.path}:{definition.line}"


def _check_connection(definition: ModelDefinition, config: ProjectConfig) -> None:
    name = definition.connection or config.default_connection
    connection = config.connections.get(name)
    if connection is None:
        known = ", ".join(f"`{known}`" for known in config.connections)
        message = f"unknown connection `{name}`; declared: {known}"
    elif connection.read_only and definition.materialise in (
        Materialise.TABLE,
        Materialise.VIEW,
    ):
        message = (
            f"connection `{name}` has `access: read`; a `{definition.materialise}` "
            "model cannot materialise into it"
        )
    else:
        return
    raise DiscoveryError(
        message, path=definition.path, line=definition.line, model=definition.name
    )


# -- fresh imports ---------------------------------------------------------------


class _FreshLoader(importlib.machinery.SourceFileLoader):
    """Compiles model files from source every time; never uses `.pyc` files.

    Bytecode is read and written only when `path_stats` succeeds, so making
    it fail is enough. The source is also placed in `linecache`, so that
    `inspect.getsource` (and the code hash) sees exactly what was executed.
    """

    def path_stats(self, path: str) -> Mapping[str, Any]:
        raise OSError("model files are always compiled from source")

    def get_data(self, path: str) -> bytes:
        data = Path(path).read_bytes()
        if path == self.path:
            text = data.decode("utf-8", errors="replace")
            lines = text.splitlines(keepends=True)
            linecache.cache[path] = (len(data), None, lines, path)
        return data


class _ModelFinder(importlib.abc.MetaPathFinder):
    """Resolves `interlace_models.*` to files of the active models directory."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._served: set[Path] = set()
        self._path_entries: list[str] = []

    def activate(self, models_dir: Path) -> None:
        """Serve `models_dir` and forget every module imported before.

        Modules and `sys.path` entries of previously served directories are
        dropped too, so `import helpers` in one project never finds the
        `helpers` of a project discovered earlier in the same process.
        """
        self._root = models_dir
        self._served.add(models_dir)
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        for entry in self._path_entries:
            if entry in sys.path:
                sys.path.remove(entry)
        self._path_entries = [
            entry
            for entry in (str(models_dir), str(models_dir.parent))
            if entry not in sys.path
        ]
        sys.path.extend(self._path_entries)
        self._purge()
        importlib.invalidate_caches()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if self._root is None or fullname.split(".")[0] != PACKAGE:
            return None
        location = self._root.joinpath(*fullname.split(".")[1:])
        if location.is_dir():
            return _package_spec(fullname, location)
        file = location.with_suffix(".py")
        if not file.is_file():
            return None
        loader = _FreshLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)

    def _purge(self) -> None:
        # Plain string prefixes: this scans every loaded module on each
        # discovery, and pathlib would make it the slowest step.
        roots = tuple(str(root) + os.sep for root in self._served)
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if (
                name == PACKAGE
                or name.startswith(PACKAGE + ".")
                or (isinstance(file, str) and file.startswith(roots))
            ):
                del sys.modules[name]


def _package_spec(fullname: str, location: Path) -> importlib.machinery.ModuleSpec:
    """A directory: a regular package with `__init__.py`, else a namespace."""
    init = location / "__init__.py"
    if not init.is_file():
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [str(location)]
        return spec
    package = importlib.util.spec_from_file_location(
        fullname,
        init,
        loader=_FreshLoader(fullname, str(init)),
        submodule_search_locations=[str(location)],
    )
    assert package is not None
    return package


_FINDER = _ModelFinder()
