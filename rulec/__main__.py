"""`python -m rulec` is the `rulec` command."""

from rulec.cli import main

main()
