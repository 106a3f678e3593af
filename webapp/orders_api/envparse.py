"""Parsing of environment variable values; errors name the variable."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")
_BOOLS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLS |= {"0": False, "false": False, "no": False, "off": False}


class SettingsError(ValueError):
    """A bad configuration value; the message names the environment variable."""

    def __init__(self, env_var: str, message: str) -> None:
        super().__init__(f"{env_var}: {message}")
        self.env_var = env_var


class EnvReader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self._env.get(name, "").strip()
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            raise SettingsError(name, f"{exc} (got {raw!r})") from None


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,12}", raw) or not lo <= int(raw) <= hi:
            raise ValueError(f"must be an integer between {lo} and {hi}")
        return int(raw)

    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not lo <= value <= hi:  # also rejects NaN
            raise ValueError(f"must be a number between {lo:g} and {hi:g}")
        return value

    return parse


def choice(options: tuple[str, ...], upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def boolean(raw: str) -> bool:
    try:
        return _BOOLS[raw.lower()]
    except KeyError:
        raise ValueError("must be a boolean (true/false/1/0/yes/no/on/off)") from None
