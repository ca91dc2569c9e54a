"""The error for bad or missing data: a message saying what was expected, and how to get it."""


class DataError(Exception):
    # True for an error after which the interpreter's teardown could hang or abort (a multi-process run whose
    # peer died): the command line then ends the process at once, after the message.
    skips_teardown = False

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"error: {self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")


class FlagError(DataError):
    """A flag's value that is malformed or out of range, such as the task `--data digits:5-3`: a usage error
    (exit code 2), where a DataError is a problem in the data itself (exit code 1)."""
