"""What the API shows of models: list entries and details (SPEC §10.5).

Everything here reads the loaded `Project` only (it is immutable and in
memory), so it needs no bridge; facts from the state store are passed in by
the caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.project import Project
from interlace.errors import SelectionError
from interlace.retry import RetryPolicy
from interlace.service.problems import not_found, validation_error
from interlace.state.ids import iso_utc
from interlace.state.records import ModelStateRecord, SchemaVersionRecord

__all__ = [
    "Column",
    "ModelCatalog",
    "ModelDetail",
    "ModelFilters",
    "ModelSummary",
    "schedule_text",
]

MODEL_TYPES = tuple(member.value for member in ModelType)


class ModelFilters(msgspec.Struct, frozen=True, kw_only=True):
    schema: str | None = None
    type: str | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None

    @classmethod
    def parse(
        cls,
        schema: str | None,
        type: str | None,
        tags: str | None,
        search: str | None,
    ) -> ModelFilters:
        if type is not None and type not in MODEL_TYPES:
            message = f"'type' must be one of {', '.join(MODEL_TYPES)}"
            raise validation_error(
                message, [{"path": "query.type", "message": message}]
            )
        wanted = tuple(tag.strip() for tag in (tags or "").split(",") if tag.strip())
        return cls(schema=schema or None, type=type, tags=wanted, search=search or None)

    def matches(self, model: ModelDefinition) -> bool:
        return (
            (self.schema is None or model.schema == self.schema)
            and (self.type is None or model.type == self.type)
            and (not self.tags or any(tag in model.tags for tag in self.tags))
            and (self.search is None or self.search.lower() in model.name.lower())
        )


class ModelSummary(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    schema: str
    connection: str
    materialise: str
    strategy: str | None
    description: str
    tags: list[str]
    owner: str | None
    layer: int
    has_schedule: bool


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    data_type: str
    nullable: bool
    is_primary_key: bool


class ModelDetail(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    schema: str
    connection: str
    materialise: str
    strategy: str | None
    primary_key: list[str]
    layer: int
    dependencies: list[str]
    dependents: list[str]
    external_dependencies: list[str]
    description: str
    tags: list[str]
    owner: str | None
    file: str | None
    file_hash: str | None
    definition_hash: str | None
    has_schedule: bool
    schedule: str | None
    schedule_config: dict[str, Any] | None
    columns: list[Column]
    fields: dict[str, str] | None
    incremental: Any
    cursor: str | None
    schema_mode: str
    retry_policy: dict[str, Any]
    last_run_at: str | None
    last_success_at: str | None


class ModelCatalog:
    """Read-only views of the project's models."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._layers = project.graph.layers()

    def names(self) -> list[str]:
        return sorted(self._project.models)

    def definition(self, name: str) -> ModelDefinition:
        """The model's definition; 404 `MODEL_NOT_FOUND` when unknown."""
        try:
            return self._project.model(name)
        except SelectionError:
            raise not_found("model", name) from None

    def summaries(self, filters: ModelFilters) -> list[ModelSummary]:
        """Matching models, sorted by name."""
        models = self._project.models
        return [
            self.summary(models[name])
            for name in sorted(models)
            if filters.matches(models[name])
        ]

    def summary(self, model: ModelDefinition) -> ModelSummary:
        return ModelSummary(
            name=model.name,
            type=model.type.value,
            schema=model.schema,
            connection=self._connection(model),
            materialise=model.materialise.value,
            strategy=effective_strategy(model),
            description=model.description,
            tags=list(model.tags),
            owner=model.owner,
            layer=self._layers[model.name],
            has_schedule=model.schedule is not None,
        )

    def detail(
        self,
        name: str,
        state: ModelStateRecord | None,
        schema: SchemaVersionRecord | None = None,
    ) -> ModelDetail:
        """`schema` is the latest recorded version; its columns win over `fields`."""
        model = self.definition(name)
        graph = self._project.graph
        code_hash, config_hash = self._project.hashes.get(name, (None, None))
        return ModelDetail(
            **msgspec.structs.asdict(self.summary(model)),
            primary_key=list(model.primary_key),
            dependencies=graph.upstream(name),
            dependents=graph.downstream(name),
            external_dependencies=graph.external_dependencies(name),
            file=None if model.path is None else str(model.path),
            file_hash=code_hash,
            definition_hash=config_hash,
            schedule=schedule_text(model.schedule),
            schedule_config=model.schedule,
            columns=_columns(model, schema),
            fields=model.fields,
            incremental=model.incremental,
            cursor=model.cursor,
            schema_mode=model.schema_mode.value,
            retry_policy=_retry(model.retry or self._project.config.retry),
            last_run_at=_iso(state.last_run_at if state else None),
            last_success_at=_iso(state.last_success_at if state else None),
        )

    def _connection(self, model: ModelDefinition) -> str:
        return model.connection or self._project.config.default_connection


def effective_strategy(model: ModelDefinition) -> str | None:
    """The strategy that writes the model; None where none applies (views...)."""
    if model.materialise != Materialise.TABLE:
        return None
    return model.effective_strategy.value


def schedule_text(schedule: dict[str, Any] | None) -> str | None:
    """`15 * * * *`, `every 300s`, or None."""
    if not schedule:
        return None
    if "cron" in schedule:
        return str(schedule["cron"])
    return f"every {float(schedule['every_s']):g}s"


def _columns(
    model: ModelDefinition, schema: SchemaVersionRecord | None
) -> list[Column]:
    if schema is not None:
        return [
            Column(
                name=column.name,
                type=column.type,
                data_type=column.type,
                nullable=column.nullable,
                is_primary_key=column.is_primary_key,
            )
            for column in schema.columns
        ]
    # `fields` declares types only; nullability is unknown until schema
    # history records the table, so every column reports `nullable: true`.
    keys = set(model.primary_key)
    return [
        Column(
            name=name,
            type=type_,
            data_type=type_,
            nullable=True,
            is_primary_key=name in keys,
        )
        for name, type_ in (model.fields or {}).items()
    ]


def _retry(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "initial_delay": policy.initial_delay,
        "max_delay": policy.max_delay,
        "exponential_base": policy.exponential_base,
        "delay_seconds": policy.initial_delay,
        "backoff_multiplier": policy.exponential_base,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else iso_utc(value)
