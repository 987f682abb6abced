"""Run overhead: Interlace against the same CREATE TABLE statements on DuckDB.

Three projects of trivial SQL models are generated and each is run through
`interlace.run(force=True)`; the same statements are then executed directly on
a fresh DuckDB file in this process. Timings are medians of a few repetitions,
measured in one run so that a noisy machine affects both sides alike.

Goals: the 20-model chain of diamonds within 2x raw DuckDB plus project
loading; under 1 ms of overhead per task at 1,000 models.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

import interlace
from interlace.engine.project import Project

REPEATS = 3


def chain_of_diamonds(count: int) -> dict[str, list[str]]:
    """Models `m0 -> (l1, r1) -> m1 -> ...` until `count` models exist."""
    models: dict[str, list[str]] = {"m0": []}
    index = 0
    while len(models) < count:
        index += 1
        top = f"m{index - 1}"
        for side in ("l", "r"):
            if len(models) < count:
                models[f"{side}{index}"] = [top]
        parents = [name for name in (f"l{index}", f"r{index}") if name in models]
        if len(models) < count:
            models[f"m{index}"] = parents
    return models


def wide(count: int) -> dict[str, list[str]]:
    """One source and `count - 1` models that each read it."""
    models: dict[str, list[str]] = {"source": []}
    for index in range(1, count):
        models[f"leaf{index:04d}"] = ["source"]
    return models


def select_for(parents: list[str]) -> str:
    if not parents:
        return "SELECT range AS id, range * 2 AS value FROM range(100)"
    joined = " UNION ALL ".join(f"SELECT id, value FROM {p}" for p in parents)
    return f"SELECT id, max(value) + 1 AS value FROM ({joined}) GROUP BY id"


def write_project(root: Path, models: dict[str, list[str]]) -> None:
    (root / "models").mkdir(parents=True)
    (root / "config.yaml").write_text(
        "name: bench\n"
        "connections:\n"
        "  default: {type: duckdb, path: warehouse.duckdb}\n"
        "executor: {max_workers: 4}\n"
    )
    for name, parents in models.items():
        (root / "models" / f"{name}.sql").write_text(select_for(parents) + "\n")


def raw_duckdb(root: Path, models: dict[str, list[str]]) -> float:
    """Execute the same statements in topological order on a new DuckDB file."""
    path = root / f"raw-{time.monotonic_ns()}.duckdb"
    start = time.perf_counter()
    connection = duckdb.connect(str(path))
    connection.execute("CREATE SCHEMA IF NOT EXISTS public")
    connection.execute("SET schema = 'public'")
    for name in Project.load(root).graph.order():
        connection.execute(
            f'CREATE OR REPLACE TABLE "{name}" AS {select_for(models[name])}'
        )
    connection.close()
    return time.perf_counter() - start


def median_seconds(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(label: str, models: dict[str, list[str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="interlace-bench-") as folder:
        root = Path(folder)
        write_project(root, models)
        results = interlace.run_sync(project_dir=root, force=True)
        failed = [name for name, r in results.items() if r["status"] != "success"]
        if failed:
            sys.exit(f"{label}: models failed: {failed[:5]}")
        load = median_seconds(lambda: Project.load(root))
        run = median_seconds(lambda: interlace.run_sync(project_dir=root, force=True))
        raw = statistics.median(raw_duckdb(root, models) for _ in range(REPEATS))
    count = len(models)
    overhead_ms = (run - raw - load) / count * 1000
    print(
        f"{label:<22} models={count:>5}  interlace={run * 1000:9.1f} ms  "
        f"raw duckdb={raw * 1000:9.1f} ms  load={load * 1000:7.1f} ms  "
        f"ratio={run / raw:5.2f}x  ratio vs raw+load={run / (raw + load):5.2f}x  "
        f"overhead/task={overhead_ms:6.3f} ms"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    measure("single model", {"only": []})
    measure("chain of diamonds", chain_of_diamonds(20))
    measure("wide graph", wide(1000))


if __name__ == "__main__":
    main()
