"""Exceptions that the CLI turns into one clear line and exit code 2."""


class ZSLBenchError(Exception):
    """Bad usage or bad input: the message is shown to the user as is (one line)."""


class DataError(ZSLBenchError):
    """A data file or folder is missing, unreadable or inconsistent."""


class ConfigError(ZSLBenchError):
    """An unknown option, name or value."""


class RecordError(ZSLBenchError):
    """A run record is missing, corrupted or of an unknown format."""
