"""The `interlace` command line (typer commands rendered with rich)."""
