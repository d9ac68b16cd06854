"""The text of ``--set key=value`` turned into a typed value of a config or options dataclass:
bool, int, float, str, an Enum, a Literal or an Optional of one, with one-line errors naming the
option (ConfigError).  The values' ranges are checked by zslbench.config."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from zslbench.errors import ConfigError


def _parse_bool(key: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"--set {key}={text!r}: expected true or false")


def coerce_field(cls: type, key: str, text: str, label: str | None = None) -> Any:
    """``text`` as the declared type of field ``key`` of dataclass ``cls``: bool, int, float,
    str, an Enum (by name or value), a Literal, or an Optional of one ("none" gives None);
    ConfigError naming ``--set label=text`` otherwise."""
    import typing

    try:
        kind = typing.get_type_hints(cls)[key]
    except Exception:  # an annotation that does not resolve: the field's declared text
        kind = {f.name: f.type for f in fields(cls)}[key]
    return _as_type(kind, text.strip(), label or key, text)


def _as_type(kind: Any, text: str, key: str, raw: str) -> Any:
    import enum
    import typing

    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if args and type(None) in args and origin is not typing.Literal:  # Optional[X], X | None
        if text.lower() in ("none", "null"):
            return None
        rest = [a for a in args if a is not type(None)]
        kind = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007 (a union built at run time)
        return _as_type(kind, text, key, raw)
    if origin is typing.Literal:
        for choice in args:
            if str(choice) == text or (isinstance(choice, bool) is False and _same_number(choice, text)):
                return choice
        raise ConfigError(f"--set {key}={raw!r}: expected one of {', '.join(map(str, args))}")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        for member in kind:
            if text in (member.name, str(member.value)):
                return member
        raise ConfigError(f"--set {key}={raw!r}: expected one of {', '.join(m.name for m in kind)}")
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if name == "bool":
        return _parse_bool(key, raw)
    if name in ("int", "float"):
        try:
            return int(text) if name == "int" else float(text)
        except ValueError:
            raise ConfigError(
                f"--set {key}={raw!r}: expected {'an integer' if name == 'int' else 'a number'}"
            ) from None
    if args:  # another union: the first of its types that takes the text
        for option in args:
            try:
                return _as_type(option, text, key, raw)
            except ConfigError:
                continue
        raise ConfigError(f"--set {key}={raw!r}: expected {kind}")
    return raw


def _same_number(choice: Any, text: str) -> bool:
    try:
        return isinstance(choice, (int, float)) and float(text) == choice
    except ValueError:
        return False


def parse_overrides(cls: type, items: list[str] | tuple[str, ...]) -> dict:
    """Turn `key=value` strings into typed overrides for config class `cls`."""
    valid = [f.name for f in fields(cls)]
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        key = key.strip()
        if key not in valid:
            hint = _did_you_mean(key, valid)
            raise ConfigError(f"--set: unknown key {key!r}{hint}; valid keys: {', '.join(valid)}")
        out[key] = coerce_field(cls, key, text.strip())
    return out


def _did_you_mean(word: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
