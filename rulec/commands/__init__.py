"""The commands behind `rulec train`, `rulec compare` and `rulec meta-train`: settings from flags, progress bars,
tables, the files written and exit codes.

This layer sits between the command line (rulec/cli.py) and the library (experiment/, over runtime/ and meta/),
which does the work and prints nothing: it is the only one besides the CLI that imports typer or rich, and it
turns the library's plain exceptions into messages.
"""
