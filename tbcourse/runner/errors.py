"""What a call of student code can end in, besides a result: the face's exceptions, importable without torch."""

TIMED_OUT = "ran past the time limit"  # how a message about a call that ran too long starts
MESSAGE_CHARS = 2000  # of an exception's message, what travels to the checks and into a grade


def shortened(text: str) -> str:
    """``text``, cut to MESSAGE_CHARS characters."""
    return text if len(text) <= MESSAGE_CHARS else f"{text[:MESSAGE_CHARS]}... ({len(text)} characters)"


class StudentError(Exception):
    """An exception raised by student code that is not one of Python's own types."""


class CallFailed(Exception):
    """The call could not give a result to check: the lesson does not import, the function is missing, the
    process died or ran past its time limit, or the reply is not plain data. Its message says which, in a line."""
