"""`python -m interlace.service`: run the service without the CLI.

Used by tests and benchmarks to start a real server in a subprocess; the
`interlace serve` command offers the same options.
"""

from __future__ import annotations

import argparse
import logging
import sys

from interlace.errors import InterlaceError
from interlace.service.server import run_service

logger = logging.getLogger("interlace.service")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run_service(
            args.project_dir,
            args.env,
            args.host,
            args.port,
            args.cors_origin,
            run_on_start=args.run,
            scheduler=not args.no_scheduler,
            ui=not args.no_ui,
        )
    except InterlaceError as exc:
        logger.error("%s", exc)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m interlace.service")
    parser.add_argument("--project-dir", "-d", default=".")
    parser.add_argument("--env", default=None)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--cors-origin", action="append", default=None)
    parser.add_argument("--run", action="store_true", help="run all models on start")
    parser.add_argument("--no-scheduler", action="store_true")
    parser.add_argument("--no-ui", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser


if __name__ == "__main__":
    sys.exit(main())
