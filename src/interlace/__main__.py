"""`python -m interlace`: the same command line as the `interlace` script."""

from interlace.cli.app import main

main()
