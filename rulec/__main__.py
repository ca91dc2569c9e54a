"""`python -m rulec` is the `rulec` command."""

from rulec.cli import main

if __name__ == "__main__":
    main()
