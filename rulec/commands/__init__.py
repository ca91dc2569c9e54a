"""The commands behind `rulec train` and `rulec meta-train`: flags, progress bars, tables and exit codes.

This layer sits between the command line (rulec/cli.py) and the library packages (runtime/, meta/): it is the only
one besides the CLI that imports typer or rich, and it turns the library's plain exceptions into messages.
"""
