"""`interlace config show`: the resolved configuration, secrets masked."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from interlace.cli.console import console
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import command_session

__all__ = ["ConfigFormat", "config_app", "render_config"]

config_app = typer.Typer(
    help="Inspect the resolved configuration.", no_args_is_help=True
)


class ConfigFormat(enum.StrEnum):
    YAML = "yaml"
    TOML = "toml"
    JSON = "json"


@config_app.command("show")
def show(
    output_format: Annotated[
        ConfigFormat, typer.Option("--format", help="Output format.")
    ] = ConfigFormat.YAML,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Print config.yaml merged with its environment overlay, interpolated."""
    with command_session(verbose):
        from interlace.config import load_config, masked_config

        config = load_config(project_dir, env)
        console.out(
            render_config(masked_config(config), output_format), highlight=False
        )


def render_config(data: dict[str, Any], output_format: ConfigFormat) -> str:
    """The mapping as YAML, TOML or JSON text (without a trailing newline).

    TOML has no null: keys whose value is None are left out of TOML output.
    """
    if output_format is ConfigFormat.JSON:
        return json.dumps(data, indent=2, default=str)
    if output_format is ConfigFormat.TOML:
        import tomli_w

        return tomli_w.dumps(_without_none(data)).rstrip("\n")
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip("\n")


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(key): _without_none(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [_without_none(item) for item in value if item is not None]
    return value
