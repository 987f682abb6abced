# Developer tasks. `pip install -e '.[dev]'` brings `just` (PyPI's rust-just).

venv := ".venv/bin"

# Create the virtual environment and install Interlace with every extra.
setup:
    python3 -m venv .venv
    {{venv}}/python -m pip install --quiet --upgrade pip
    {{venv}}/python -m pip install --quiet -e '.[dev]'

# Run the test suite.
test *args:
    {{venv}}/pytest -q {{args}}

# Lint, check formatting and type-check.
lint:
    {{venv}}/ruff check src tests benchmarks
    {{venv}}/ruff format --check src tests benchmarks
    {{venv}}/mypy

# Format the code.
fmt:
    {{venv}}/ruff format src tests benchmarks
    {{venv}}/ruff check --fix src tests benchmarks

# Run every benchmark and print its figures.
bench:
    for script in benchmarks/*.py; do {{venv}}/python "$script"; done

# Scaffold the demo project if needed and run it.
demo:
    test -d demo || {{venv}}/interlace init demo
    {{venv}}/interlace run -d demo

# Serve the demo project (REST API, events, scheduler) on 127.0.0.1:8080.
serve *args: demo
    {{venv}}/interlace serve -d demo {{args}}

# Everything CI runs, from scratch.
ci:
    bash .ci/run
