"""A setting's spec and its text form in the URL.

A :class:`Spec` says what one setting of the page may hold: its default (whose type is
the setting's type), range and step, options, the widget that shows it, its label and
help. Its key (given by the catalogue, ``explorer.specs``) is the widget's ``key=`` in the
session state and the name of its URL query parameter, so ``?size=128&rate=0.15`` opens
the same page. The widget, the URL parsing (:func:`parse_query`) and the defaults all
read the same spec, so a value the URL can set is always one the widget can show: a URL
value outside the range is clamped to it, one of the wrong type or an unknown option is
replaced by the default, and each such change comes back as a note for the page to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["QUOTE_LIMIT", "Spec", "parse_query", "to_query", "widget_value"]

#: Longest URL value quoted back in a note (the rest is cut).
QUOTE_LIMIT = 40


@dataclass(frozen=True)
class Spec:
    """One setting.

    Attributes
    ----------
    default : bool, int, float, str or tuple of str
        The value on a fresh page; its type is the setting's type.
    label, help : str
        What the widget says.
    widget : str
        ``"slider"``, ``"number"``, ``"select"``, ``"segmented"``, ``"radio"``,
        ``"pills"`` (several options), ``"toggle"``, ``"select_slider"``, ``"text"`` or ``""`` (no
        widget of its own: drawn by a panel).
    options : tuple, optional
        Allowed values; ``labels`` maps a value to what the user reads.
    low, high, step : float, optional
        Inclusive range and widget step for numbers.
    format : str, optional
        printf-style format of a number widget, or one of Streamlit's named formats
        (``"percent"``: the fraction 0.25 shown as 25%).
    param : str, optional
        The solver's name for the setting when it differs (FIRENET's ``restarts`` for
        ``n``): one set of names in the solver, short ones in URLs.
    """

    default: Any
    label: str = ""
    help: str | None = None
    widget: str = "number"
    options: tuple | None = None
    labels: Mapping[Any, str] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    step: float | None = None
    format: str | None = None
    param: str | None = None

    def label_of(self, value: Any) -> str:
        return self.labels.get(value, str(value))

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` naming ``name`` if the widget could not hold ``value``."""
        _, note = self.coerce(name, value)
        if note:
            raise ValueError(note)

    def coerce(self, name: str, value: Any) -> tuple[Any, str | None]:
        """``value`` made valid for this setting, and a note when it had to change."""
        default = self.default
        if isinstance(default, tuple):
            values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
            kept = tuple(v for v in values if self.options is None or v in self.options)
            if kept != values:
                dropped = [v for v in values if v not in kept]
                return kept, (f"{name}: {_quote(dropped[0])} is not one of "
                              f"{', '.join(map(str, self.options or ()))}; it was left out.")
            return kept, None
        if self.options is not None:
            if value in self.options and type(value) is type(default):
                return value, None
            return default, (f"{name} must be one of {', '.join(map(str, self.options))}; "
                             f"got {_quote(value)}, the default {_format(default)} is used.")
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value, None
            return default, f"{name} must be on or off; got {_quote(value)}, the default is used."
        if isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return default, (f"{name} must be a finite number; got {_quote(value)}, the "
                                 f"default {_format(default)} is used.")
            low = self.low if self.low is not None else value
            high = self.high if self.high is not None else value
            clamped = type(default)(min(max(value, low), high))
            if clamped != value:
                return clamped, (f"{name} must be in [{_format(self.low)}, {_format(self.high)}]; "
                                 f"got {_format(value)}, {_format(clamped)} is used.")
            return clamped, None
        if not isinstance(value, str):
            return default, f"{name} must be text; got {_quote(value)}, the default is used."
        return value, None

    def parse(self, name: str, text: str | list[str]) -> tuple[Any, list[str]]:
        """A URL value (text, or the list of a repeated key) as a valid setting, with
        notes on anything that had to change."""
        notes = []
        if isinstance(text, list):
            if len(text) > 1:
                notes.append(f"{name} was given {len(text)} times; the last value is used.")
            text = text[-1] if text else ""
        value = self._from_text(name, str(text))
        if value is _INVALID:
            notes.append(f"{name} must be {self._kind()}; got {_quote(text)}, the default "
                         f"{_format(self.default)} is used.")
            return self.default, notes
        value, note = self.coerce(name, value)
        return value, notes + ([note] if note else [])

    def _kind(self) -> str:
        default = self.default
        if isinstance(default, bool):
            return "on or off (1/0)"
        if isinstance(default, int):
            return "a whole number"
        if isinstance(default, float):
            return "a number"
        if isinstance(default, tuple):
            return "a comma-separated list"
        return "a name"

    def _from_text(self, name: str, text: str) -> Any:
        default = self.default
        text = text.strip()
        try:
            if isinstance(default, bool):
                return {"1": True, "true": True, "0": False, "false": False}.get(text.lower(), _INVALID)
            if isinstance(default, int):
                number = float(text)
                return int(number) if math.isfinite(number) and number == int(number) else _INVALID
            if isinstance(default, float):
                number = float(text)
                return number if math.isfinite(number) else _INVALID
        except (ValueError, OverflowError):
            return _INVALID
        if isinstance(default, tuple):
            return tuple(v for v in text.split(",") if v)
        if self.options is not None and text not in self.options:
            # Options may be numbers (sizes): compare as text too.
            matches = [option for option in self.options if str(option) == text]
            return matches[0] if matches else text
        return text


_INVALID = object()


def _quote(value: Any) -> str:
    text = str(value)
    if len(text) > QUOTE_LIMIT:
        text = text[:QUOTE_LIMIT] + f"... ({len(text):,} characters)"
    return repr(text)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}" if value == float(f"{value:g}") else repr(value)
    return str(value)



def widget_value(value: Any) -> Any:
    """A setting as its widget holds it (multiselects hold lists, not tuples)."""
    return list(value) if isinstance(value, tuple) else value


def parse_query(query: Mapping[str, Any], specs: Mapping[str, Spec],
                retired: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Settings from URL query parameters; ``retired``: keys that earlier pages wrote and
    this one no longer needs, each with why (an old link still opens, with that note).

    Returns
    -------
    values : dict
        A valid value for every known key in the URL (clamped or the default where the
        URL's value could not be used).
    notes : list of str
        One message per value that was changed, per retired key and per unknown key
        (both ignored).
    """
    values: dict[str, Any] = {}
    notes: list[str] = []
    for name, text in query.items():
        spec = specs.get(name)
        if spec is None and retired and name in retired:
            notes.append(f"URL parameter {_quote(name)} is no longer needed: {retired[name]}")
            continue
        if spec is None:
            notes.append(f"Unknown URL parameter {_quote(name)} ignored.")
            continue
        values[name], changed = spec.parse(name, text)
        notes += changed
    return values, notes


def to_query(state: Mapping[str, Any], specs: Mapping[str, Spec]) -> dict[str, str]:
    """The settings that differ from their defaults, as URL query strings."""
    query: dict[str, str] = {}
    for key, spec in specs.items():
        if key not in state:
            continue
        value = state[key]
        if isinstance(spec.default, tuple):
            value = tuple(value)
        if value != spec.default:
            query[key] = _format(value)
    return query
