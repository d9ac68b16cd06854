"""Exceptions that the CLI turns into one clear line and exit code 2."""


class ZSLBenchError(Exception):
    """Bad usage or bad input: the message is shown to the user as is (one line)."""


class DataError(ZSLBenchError):
    """A data file or folder is missing, unreadable or inconsistent."""


class ConfigError(ZSLBenchError):
    """An unknown option, name or value."""


class RecordError(ZSLBenchError):
    """A run record is missing, corrupted or of an unknown format."""


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())
