"""`python -m rulec` is the `rulec` command, with Ctrl-C handled from its first line (rulec/commands/interrupts.py)."""

from rulec.commands import interrupts

interrupts.install()

from rulec.cli import main  # noqa: E402  (after the handler: importing the command line takes a while)

if __name__ == "__main__":
    main()
