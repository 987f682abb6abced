"""Project identity (`/api/v1/project`) and build features (`/api/v1/info`)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

import interlace
from interlace.engine.definition import ModelType
from interlace.service.features import feature_flags
from interlace.service.state import ServiceState

__all__ = ["ConnectionSummary", "InfoReport", "ProjectController", "ProjectReport"]


class ConnectionSummary(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str


class ProjectReport(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    environment: str
    project_dir: str
    models_count: int
    streams_count: int
    connections: list[ConnectionSummary]
    state_enabled: bool
    state_backend: str


class InfoReport(msgspec.Struct, frozen=True, kw_only=True):
    api_version: str
    interlace_version: str
    features: dict[str, bool]


class ProjectController(Controller):
    path = "/api/v1"
    tags = ["project"]

    @get("/project", summary="The loaded project")
    async def project(self, service: NamedDependency[ServiceState]) -> ProjectReport:
        config = service.project.config
        models = service.project.models.values()
        return ProjectReport(
            name=config.name,
            description=config.description,
            environment=config.env,
            project_dir=str(config.project_dir),
            models_count=len(models),
            streams_count=sum(1 for model in models if model.type == ModelType.STREAM),
            connections=[
                ConnectionSummary(name=name, type=connection.type)
                for name, connection in config.connections.items()
            ],
            state_enabled=True,
            state_backend=config.state_backend,
        )

    @get("/info", summary="API version and available features")
    async def info(self, service: NamedDependency[ServiceState]) -> InfoReport:
        scheduler = (
            service.options.scheduler and service.project.config.scheduler_enabled
        )
        return InfoReport(
            api_version="v1",
            interlace_version=interlace.__version__,
            features=feature_flags(
                scheduler=scheduler, metrics=service.settings.metrics_enabled
            ),
        )
