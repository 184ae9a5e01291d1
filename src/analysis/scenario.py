"""Scenario files: every named assumption and setting the models use, read and checked strictly.

A scenario is a YAML file in ``scenarios/`` (see the comment at the top of
``scenarios/base.yaml`` for the format). ``base.yaml`` is the catalogue of every assumption;
another scenario ``extends`` it and overrides a few values. Published figures are referenced by
name (``value: {published: agency_share_of_social_worker_posts}``) and read from
``data/raw/seed/published_assumptions.csv`` at load time, never retyped.

Loading collects every problem in the file chain before raising one
:class:`~analysis.errors.InputError`, each problem naming the file, the key path (with its line)
or the Excel sheet, row and column, the value found and what was expected. Pydantic checks the
types; its messages are translated here into the users' words and never shown raw.

A scenario can be exported to an Excel workbook (sheets ``assumptions`` and ``settings``),
edited there, and read back through the same checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.errors import InputError, Problem
from analysis.loaders import load_published_assumptions
from analysis.paths import default_scenario_path, display_path, project_root, seed_dir

Distribution = Literal["triangular", "uniform", "normal", "fixed"]

_ASSUMPTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}

#: Columns of the ``assumptions`` sheet and of :meth:`Scenario.assumptions_table`. ``published``
#: names the row of ``published_assumptions.csv`` the value was read from (blank when typed).
ASSUMPTION_COLUMNS = (
    "name",
    "value",
    "unit",
    "source",
    "low",
    "high",
    "distribution",
    "description",
    "published",
)
#: The columns an analyst's own sheet must have; a blank distribution means triangular.
_REQUIRED_ASSUMPTION_COLUMNS = ("name", "value", "unit", "source", "low", "high", "description")
_SETTINGS_COLUMNS = ("key", "value", "description")


class _Strict(BaseModel):
    """Strict, closed, immutable: an unknown key or a number written as text is an error."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class AssumptionEntry(_Strict):
    """The fields of one assumption as written in a scenario file."""

    value: float = Field(
        description="the assumption's value in its unit (a number, or {published: <name>} to "
        "read it from data/raw/seed/published_assumptions.csv)"
    )
    unit: str = Field(
        min_length=1,
        description="the unit of the value, such as 'fraction' or 'GBP per FTE per year'",
    )
    source: str = Field(
        min_length=1,
        description="where the value comes from: the published document and section, a DfE "
        "statistic, 'analyst judgement: <why>' or 'derived: <how>'",
    )
    low: float = Field(description="the low end of the plausible range, in the value's unit")
    high: float = Field(description="the high end of the plausible range, in the value's unit")
    distribution: Distribution = Field(
        "triangular", description="how the Monte Carlo draws the assumption"
    )
    description: str = Field(min_length=1, description="what the number means")


class Assumption(AssumptionEntry):
    """One named assumption, resolved: its value is a number wherever it was read from.

    ``distribution`` means, for the Monte Carlo: ``triangular`` over low, mode = value, high;
    ``uniform`` over low to high; ``normal`` with mean = value and standard deviation
    (high - low) / 3.92, draws clipped to [low, high]; ``fixed`` held at the value (a policy
    choice). ``published`` is the name of the published figure the value was read from, or
    ``None`` when the value was typed.
    """

    name: str
    published: str | None = None


class GridAxis(_Strict):
    """One axis of the two-way sensitivity grid; once loaded, ``low`` and ``high`` are numbers."""

    steps: int = Field(
        ge=2, description="how many evenly spaced values the axis takes, ends included"
    )
    low: float | None = Field(
        None, description="the axis's first value; blank means the assumption's low"
    )
    high: float | None = Field(
        None, description="the axis's last value; blank means the assumption's high"
    )


class SensitivitySettings(_Strict):
    """Grid sizes, Monte Carlo draws and their limits."""

    agency_share_grid: GridAxis = Field(description="the agency_share axis of the two-way grid")
    agency_premium_grid: GridAxis = Field(
        description="the agency_premium_gbp_per_fte axis of the two-way grid"
    )
    monte_carlo_draws: int = Field(ge=1, description="how many Monte Carlo draws to make")
    seed: int = Field(ge=0, description="the random seed, so a run can be reproduced")
    correlation_agency_share_premium: float = Field(
        0.0,
        ge=-1.0,
        le=1.0,
        description="correlation between agency_share and agency_premium_gbp_per_fte draws",
    )
    max_grid_points: int = Field(ge=1, description="the most grid points allowed per structure")


class RagThreshold(_Strict):
    """Green at or below ``amber``, amber above ``amber`` up to ``red``, red above ``red``."""

    amber: float = Field(description="the measure above which the status is amber")
    red: float = Field(description="the measure above which the status is red")


class RagSettings(_Strict):
    """Thresholds of the red/amber/green statuses in the reports."""

    caseload_vs_target: RagThreshold = Field(
        description="average caseload divided by the caseload target (1.0 = at target)"
    )
    agency_share_vs_budgeted: RagThreshold = Field(
        description="agency share minus the budgeted agency_share, as a fraction"
    )
    variance_vs_budget: RagThreshold = Field(
        description="(out-turn - budget) / budget; positive is an overspend"
    )
    demand_vs_forecast: RagThreshold = Field(
        description="(actual - forecast demand) / forecast demand"
    )


class Settings(_Strict):
    """Typed structural choices of a scenario (later models add their own fields here)."""

    la_code: str = Field(
        pattern=r"^E(06|08|09|10)\d{6}$",
        description="the ONS code of an English upper-tier council, like E09000002",
    )
    efficient_structure_from: str = Field(
        pattern=r"^20\d\d-(0[1-9]|1[0-2])$",
        description="the month the Efficient structure takes effect, as YYYY-MM, like 2021-04",
    )
    horizon_years: int = Field(
        ge=1, le=30, description="how many financial years the projection covers"
    )
    legacy_retention_award_year: str = Field(
        pattern=r"^20\d\d/\d\d$",
        description="the financial year the one-off legacy retention award falls in, like 2020/21",
    )
    sensitivity: SensitivitySettings = Field(description="grid and Monte Carlo settings")
    rag: RagSettings = Field(description="red/amber/green thresholds")


class _ScenarioFile(_Strict):
    """The top level of a scenario file, once ``extends`` has been resolved."""

    name: str = Field(min_length=1, description="the scenario's name, shown in reports")
    description: str = Field(min_length=1, description="a sentence saying what the scenario is")
    settings: dict[str, Any] = Field(description="the settings block")
    assumptions: dict[str, Any] = Field(description="the assumptions block")


#: Grid axes and the assumption each one varies.
GRID_AXES = {
    "agency_share_grid": "agency_share",
    "agency_premium_grid": "agency_premium_gbp_per_fte",
}


@dataclass(frozen=True)
class _Origin:
    """Where a key of the merged scenario was written: a YAML line, or an Excel cell."""

    file: str
    line: int | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None


Key = tuple[str, ...]
_Origins = dict[Key, _Origin]


def _dotted(key: Key) -> str:
    return ".".join(str(part) for part in key)


def _problem(
    origins: _Origins,
    key: Key,
    expected: str,
    value: object = None,
    *,
    has_value: bool = True,
    about_key: bool = False,
) -> Problem:
    """Return a problem located at ``key``: its YAML line, or its Excel sheet, row and column.

    ``about_key`` marks a problem with the key itself (an unknown key): in the ``settings``
    sheet that is the row's ``key`` cell, holding the dotted key.
    """
    for length in range(len(key), -1, -1):
        origin = origins.get(key[:length])
        if origin is not None:
            exact = length == len(key)
            break
    else:  # pragma: no cover - the root key is always recorded
        raise KeyError(key)
    if origin.sheet is not None:
        if about_key and origin.sheet == "settings":
            return Problem(
                file=origin.file,
                location="sheet 'settings'",
                row=origin.row,
                column="key",
                expected=expected,
                value=_dotted(key[1:]),
            )
        return Problem(
            file=origin.file,
            location=f"sheet '{origin.sheet}'",
            row=origin.row,
            column=origin.column,
            expected=expected,
            value=value,
            has_value=has_value,
        )
    where = f"key '{_dotted(key)}'" if key else None
    if origin.line is not None:
        line = f"line {origin.line}" if exact else f"in the block at line {origin.line}"
        where = f"{where} ({line})" if where else line
    return Problem(
        file=origin.file, location=where, expected=expected, value=value, has_value=has_value
    )


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---- translating pydantic's errors ---------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Return the model class inside ``X | None``, or the annotation itself."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not None and len(args) == 1:
        return args[0]
    return annotation


def _model_at(model: type[BaseModel], path: Key) -> type[BaseModel] | None:
    """Return the model reached by following ``path`` field by field from ``model``."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _describe_field(model: type[BaseModel], path: Key) -> str | None:
    parent = _model_at(model, path[:-1])
    if parent is None or not path:
        return None
    info = parent.model_fields.get(str(path[-1]))
    return info.description if info is not None else None


def _text_hint(value: object) -> str:
    """Explain why a text that looks like a number is not read as one."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    try:
        float(text)
    except ValueError:
        pass
    else:
        return " (this was read as text: remove the quotes, or the cell's text format)"
    if any(mark in text for mark in "£%,"):
        return " (write a plain number without £, % or commas: 0.15 for 15%, 30000 for £30k)"
    return ""


_TYPE_WORDS = {
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "dict_type": "a block of 'key: value' lines",
    "model_type": "a block of 'key: value' lines",
    "model_attributes_type": "a block of 'key: value' lines",
    "finite_number": "a finite number",
}


def _translate(
    error: ValidationError, model: type[BaseModel], prefix: Key, origins: _Origins
) -> list[Problem]:
    """Turn pydantic's errors on the block at ``prefix`` into our problems."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(str(part) for part in item["loc"])
        key = prefix + loc
        kind = item["type"]
        ctx = item.get("ctx") or {}
        described = _describe_field(model, loc)
        about = f": {described}" if described else ""
        value = item.get("input")
        if kind == "missing":
            problems.append(
                _problem(origins, key, f"a value for '{loc[-1]}'{about}", has_value=False)
            )
            continue
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            known = list(parent.model_fields) if parent else []
            if parent is Assumption:
                known = list(AssumptionEntry.model_fields)
            problems.append(
                _problem(
                    origins,
                    key,
                    f"a known key{_did_you_mean(loc[-1], known)}; the keys allowed here are "
                    f"{', '.join(known)}",
                    loc[-1],
                    about_key=True,
                )
            )
            continue
        if kind in _TYPE_WORDS:
            expected = f"{_TYPE_WORDS[kind]}{_text_hint(value)}{about}"
        elif kind == "literal_error":
            expected = f"one of {ctx.get('expected', '')}{about}"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = next(iter(ctx.values()), "")
            words = {
                "greater_than_equal": "at least",
                "greater_than": "more than",
                "less_than_equal": "at most",
                "less_than": "less than",
            }[kind]
            expected = f"a number {words} {bound}{about}"
        elif kind == "string_too_short":
            expected = f"some text{about}"
        else:
            expected = described or "a valid value"
        problems.append(_problem(origins, key, expected, value))
    return problems


# ---- reading YAML files and resolving ``extends`` -----------------------------------------

#: libyaml's parser where PyYAML was built with it (its wheels are): it reads a scenario about
#: fifteen times faster than the pure-Python one, and every notebook of every pack reads one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _nested_too_deep(shown: str) -> InputError:
    return InputError(
        [
            Problem(
                file=shown,
                expected="blocks nested a few levels deep, as in scenarios/base.yaml; this "
                "file nests brackets or blocks hundreds of levels deep",
                has_value=False,
            )
        ]
    )


def _invalid_yaml(shown: str, exc: yaml.YAMLError) -> InputError:
    if "maximum nesting depth" in str(getattr(exc, "problem", "")):
        return _nested_too_deep(shown)  # libyaml's own limit (Python's parser recurses instead)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, character {mark.column + 1}" if mark else None
    reason = getattr(exc, "problem", None) or str(exc)
    return InputError(
        [
            Problem(
                file=shown,
                location=where,
                expected=f"valid YAML; the reader stopped here ({reason}): check the "
                "indentation, and quote text that contains ': ' or starts with a symbol",
                has_value=False,
            )
        ]
    )


def _read_yaml(path: Path, shown: str) -> tuple[Any, dict[Key, int]]:
    """Return a file's data and the line of every key, refusing duplicate keys and aliases."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(file=shown, expected="a text file in UTF-8", value=f"byte {exc.start}")]
        ) from exc
    try:
        loader = _YAML_LOADER(text)
    except yaml.YAMLError as exc:
        raise _invalid_yaml(shown, exc) from exc
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        loader.dispose()
        raise _invalid_yaml(shown, exc) from exc
    except RecursionError:
        loader.dispose()
        raise _nested_too_deep(shown) from None
    lines: dict[Key, int] = {}
    problems: list[Problem] = []
    visited: set[int] = set()

    def walk(current: yaml.Node, key: Key) -> None:
        if id(current) in visited:
            # Only an alias (*name) reaches a node twice. Aliases are refused: a value written
            # once could then appear anywhere, refer to itself, or multiply into millions.
            line = lines.get(key)
            problems.append(
                Problem(
                    file=shown,
                    location=f"key '{_dotted(key)}'" + (f" (line {line})" if line else ""),
                    expected="each value written out in full; YAML anchors and aliases "
                    "(&name, *name) are not read in a scenario",
                    has_value=False,
                )
            )
            return
        visited.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            for item in current.value:
                walk(item, key)
            return
        if not isinstance(current, yaml.MappingNode):
            return
        seen: set[str] = set()
        for key_node, value_node in current.value:
            name = str(key_node.value)
            child = (*key, name)
            if name in seen:
                problems.append(
                    Problem(
                        file=shown,
                        location=f"key '{_dotted(child)}' (line {key_node.start_mark.line + 1})",
                        expected="each key written once in its block; this one repeats an "
                        "earlier key, whose value would silently be replaced",
                        has_value=False,
                    )
                )
            seen.add(name)
            lines[child] = key_node.start_mark.line + 1
            walk(value_node, child)

    try:
        if node is not None:
            walk(node, ())
        if problems:
            raise InputError(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _invalid_yaml(shown, exc) from exc
    finally:
        loader.dispose()
    return data, lines


def _resolve_user_path(path: str | Path | None) -> Path:
    """A blank path is the base scenario; a relative one is tried from here, then the root."""
    if path is None or str(path).strip() == "":
        return default_scenario_path()
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate.resolve()
    return (project_root() / candidate).resolve()


def _merge_file(
    merged: dict[str, Any],
    origins: _Origins,
    data: dict[str, Any],
    lines: dict[Key, int],
    shown: str,
    parent_shown: str | None,
) -> list[Problem]:
    """Lay a child's data over its parent's, in place, recording where each key came from."""
    problems: list[Problem] = []

    def at(key: Key) -> _Origin:
        return _Origin(file=shown, line=lines.get(key))

    def overlay(target: dict[str, Any], source: dict[str, Any], key: Key) -> None:
        for name, value in source.items():
            child = (*key, str(name))
            if isinstance(value, dict) and isinstance(target.get(name), dict):
                origins.setdefault(child, at(child))
                overlay(target[name], value, child)
            else:
                target[name] = value
                origins[child] = at(child)
                if isinstance(value, dict):
                    record(value, child)

    def record(source: dict[str, Any], key: Key) -> None:
        for name, value in source.items():
            child = (*key, str(name))
            origins[child] = at(child)
            if isinstance(value, dict):
                record(value, child)

    for name in ("name", "description"):
        merged.pop(name, None)
        origins.pop((name,), None)
    for name, value in data.items():
        key = (str(name),)
        if name == "extends":
            continue
        if name == "assumptions" and parent_shown is not None and isinstance(value, dict):
            problems += _overlay_assumptions(merged, origins, value, at, record, parent_shown)
            continue
        if name == "settings" and isinstance(value, dict) and isinstance(merged.get(name), dict):
            overlay(merged[name], value, key)
            continue
        merged[name] = value
        origins[key] = at(key)
        if isinstance(value, dict):
            record(value, key)
    return problems


def _overlay_assumptions(
    merged: dict[str, Any],
    origins: _Origins,
    entries: dict[str, Any],
    at: Callable[[Key], _Origin],
    record: Callable[[dict[str, Any], Key], None],
    parent_shown: str,
) -> list[Problem]:
    """Override fields of the parent's assumptions; a child may not add an assumption."""
    problems = []
    inherited = merged.get("assumptions")
    if not isinstance(inherited, dict):
        return problems
    for name, entry in entries.items():
        key = ("assumptions", str(name))
        origin = at(key)
        if name not in inherited:
            problems.append(
                _problem(
                    {key: origin},
                    key,
                    f"the name of an assumption defined in {parent_shown}"
                    f"{_did_you_mean(name, inherited)}; a scenario may only change the "
                    "assumptions its parent has (add new ones to the base scenario)",
                    name,
                )
            )
            continue
        if not isinstance(entry, dict):
            problems.append(
                _problem(
                    {key: origin},
                    key,
                    "a block of the fields to change, like 'value: 0.25' and 'source: ...' "
                    "on indented lines below the name",
                    entry,
                )
            )
            continue
        if "value" in entry and "source" not in entry:
            problems.append(
                _problem(
                    {key: origin},
                    (*key, "source"),
                    f"a source for the new value, since this file changes the value inherited "
                    f"from {parent_shown} (the document and section, or 'analyst judgement: "
                    "<why>')",
                    has_value=False,
                )
            )
        target = inherited[name] if isinstance(inherited[name], dict) else {}
        inherited[name] = {**target, **entry}
        for field_name, value in entry.items():
            origins[(*key, str(field_name))] = at((*key, str(field_name)))
            if isinstance(value, dict):
                record(value, (*key, str(field_name)))
    return problems


def _read_chain(path: Path) -> tuple[dict[str, Any], _Origins, list[Path], list[Problem]]:
    """Read a scenario and every file it extends, merged, with the origin of every key.

    Problems that stop the reading (a missing or unreadable file, a loop) are raised; problems
    in overriding (an assumption the parent lacks) are returned, to be reported with the rest.
    """
    root = path.parent.resolve()
    chain: list[tuple[Path, Any, dict[Key, int]]] = []
    current = path.resolve()
    # The file, line and text of the ``extends`` that named ``current``.
    referrer: tuple[str, int | None, str] | None = None
    while True:
        shown = display_path(current)
        if any(current == seen for seen, _, _ in chain):
            names = " -> ".join(display_path(p) for p, _, _ in chain) + f" -> {shown}"
            file, line, written = referrer  # type: ignore[misc]
            raise InputError(
                [
                    _problem(
                        {("extends",): _Origin(file=file, line=line)},
                        ("extends",),
                        f"a chain of scenarios that ends at a base; this one loops: {names}",
                        written,
                    )
                ]
            )
        if not current.is_file():
            if referrer is None:
                raise InputError(
                    [Problem(file=shown, expected="an existing scenario file", has_value=False)]
                )
            file, line, written = referrer
            raise InputError(
                [
                    _problem(
                        {("extends",): _Origin(file=file, line=line)},
                        ("extends",),
                        f"an existing scenario file; there is no {shown} (the path is "
                        "relative to the file that names it)",
                        written,
                    )
                ]
            )
        data, lines = _read_yaml(current, shown)
        if not isinstance(data, dict):
            raise InputError(
                [
                    Problem(
                        file=shown,
                        expected="a scenario: 'key: value' lines with name, description, "
                        "settings and assumptions",
                        value=data if data is not None else "an empty file",
                    )
                ]
            )
        chain.append((current, data, lines))
        parent = data.get("extends")
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise InputError(
                [
                    _problem(
                        {("extends",): _Origin(file=shown, line=lines.get(("extends",)))},
                        ("extends",),
                        "the file name of the parent scenario, like base.yaml",
                        parent,
                    )
                ]
            )
        target = (current.parent / parent).resolve()
        if not target.is_relative_to(root):
            raise InputError(
                [
                    _problem(
                        {("extends",): _Origin(file=shown, line=lines.get(("extends",)))},
                        ("extends",),
                        f"a scenario in the same folder; path must stay inside "
                        f"{display_path(root)}/",
                        parent,
                    )
                ]
            )
        referrer = (shown, lines.get(("extends",)), parent)
        current = target

    merged: dict[str, Any] = {}
    origins: _Origins = {}
    problems: list[Problem] = []
    parent_shown: str | None = None
    for file, data, lines in reversed(chain):
        shown = display_path(file)
        origins[()] = _Origin(file=shown)
        problems += _merge_file(merged, origins, data, lines, shown, parent_shown)
        parent_shown = shown
    return merged, origins, [file for file, _, _ in chain], problems


# ---- building a validated scenario -------------------------------------------------------


def _unit_bounds(unit: str) -> tuple[float | None, float | None, str] | None:
    """Return the bounds a unit imposes, with how to say them, or ``None`` for no bounds."""
    if unit == "fraction" or unit.startswith("fraction of ") or unit == "probability":
        return 0.0, 1.0, f"a {unit} between 0 and 1"
    if unit in ("fraction per year", "fractional change"):
        return -1.0, None, f"a {unit} of -1 (everything gone) or more"
    return None


def _assumption_problems(
    name: str, entry: AssumptionEntry, origins: _Origins, published: str | None
) -> list[Problem]:
    """Check a well-typed assumption: its range, its unit's bounds, its value inside its range."""
    key = ("assumptions", name)
    problems = []
    bounds = _unit_bounds(entry.unit)
    if bounds is not None:
        lowest, highest, words = bounds
        for part in ("value", "low", "high"):
            number = getattr(entry, part)
            if (lowest is not None and number < lowest) or (
                highest is not None and number > highest
            ):
                problems.append(_problem(origins, (*key, part), words, number))
    if entry.low > entry.high:
        problems.append(
            _problem(
                origins,
                (*key, "low"),
                f"a low end at or below the high end ({entry.high:g})",
                entry.low,
            )
        )
    elif not entry.low <= entry.value <= entry.high:
        read_from = (
            f" (the value is read from {display_path(seed_dir() / 'published_assumptions.csv')}, "
            f"'{published}')"
            if published
            else ""
        )
        problems.append(
            _problem(
                origins,
                (*key, "value"),
                f"a value inside its plausible range, {entry.low:g} to {entry.high:g}; widen "
                f"low or high if the value is right{read_from}",
                entry.value,
            )
        )
    return problems


def _resolve_published(
    assumptions: dict[str, Any], origins: _Origins
) -> tuple[dict[str, str], list[Problem]]:
    """Replace ``{published: name}`` values by the published figure, in place."""
    references = {
        name: entry["value"]
        for name, entry in assumptions.items()
        if isinstance(entry, dict) and isinstance(entry.get("value"), dict)
    }
    if not references:
        return {}, []
    published = load_published_assumptions()
    figures = dict(zip(published["name"], published["value"], strict=True))
    names: dict[str, str] = {}
    problems = []
    for name, reference in references.items():
        key = ("assumptions", name, "value")
        wanted = reference.get("published")
        if set(reference) != {"published"} or not isinstance(wanted, str):
            problems.append(
                _problem(
                    origins,
                    key,
                    "a number, or {published: <name>} naming a row of "
                    "data/raw/seed/published_assumptions.csv",
                    reference,
                )
            )
        elif wanted not in figures:
            problems.append(
                _problem(
                    origins,
                    (*key, "published"),
                    f"the name of a published figure{_did_you_mean(wanted, figures)}; the "
                    f"names are in data/raw/seed/published_assumptions.csv",
                    wanted,
                )
            )
        else:
            assumptions[name]["value"] = float(figures[wanted])
            names[name] = wanted
    return names, problems


def _grid_ranges(
    settings: Settings, assumptions: Mapping[str, Assumption], origins: _Origins
) -> tuple[Settings, list[Problem]]:
    """Fill each grid axis's range from its assumption, checking it stays inside that range."""
    problems = []
    grid = settings.sensitivity
    axes: dict[str, GridAxis] = {}
    for axis_name, assumption_name in GRID_AXES.items():
        axis: GridAxis = getattr(grid, axis_name)
        key = ("settings", "sensitivity", axis_name)
        assumption = assumptions.get(assumption_name)
        if assumption is None:
            problems.append(
                _problem(
                    origins,
                    ("assumptions",),
                    f"an assumption '{assumption_name}', which settings.sensitivity."
                    f"{axis_name} varies",
                    has_value=False,
                )
            )
            continue
        low = assumption.low if axis.low is None else axis.low
        high = assumption.high if axis.high is None else axis.high
        for part, number in (("low", low), ("high", high)):
            if not assumption.low <= number <= assumption.high:
                problems.append(
                    _problem(
                        origins,
                        (*key, part),
                        f"a value inside the plausible range of {assumption_name}, "
                        f"{assumption.low:g} to {assumption.high:g} (widen that range to explore "
                        "further)",
                        number,
                    )
                )
        if low >= high:
            problems.append(
                _problem(origins, (*key, "low"), f"a grid start below its end ({high:g})", low)
            )
        axes[axis_name] = axis.model_copy(update={"low": low, "high": high})
    sensitivity = grid.model_copy(update=axes)
    return settings.model_copy(update={"sensitivity": sensitivity}), problems


def _grid_size_problems(grid: SensitivitySettings, origins: _Origins) -> list[Problem]:
    """Refuse a two-way grid with more points than the scenario's own limit."""
    points = grid.agency_share_grid.steps * grid.agency_premium_grid.steps
    if points <= grid.max_grid_points:
        return []
    return [
        _problem(
            origins,
            ("settings", "sensitivity", "agency_share_grid", "steps"),
            f"at most settings.sensitivity.max_grid_points = {grid.max_grid_points:,} grid "
            f"points; agency_share_grid.steps x agency_premium_grid.steps = "
            f"{grid.agency_share_grid.steps} x {grid.agency_premium_grid.steps} = "
            f"{points:,}: use fewer steps or raise the limit",
            grid.agency_share_grid.steps,
        )
    ]


def _quietly(model: type[_Strict], raw: object) -> Any:
    """Return ``raw`` validated as ``model``, or ``None``; its errors are reported elsewhere."""
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _rag_problems(rag: RagSettings, origins: _Origins) -> list[Problem]:
    problems = []
    for name in RagSettings.model_fields:
        threshold: RagThreshold = getattr(rag, name)
        if threshold.amber > threshold.red:
            problems.append(
                _problem(
                    origins,
                    ("settings", "rag", name, "amber"),
                    f"an amber threshold at or below the red one ({threshold.red:g})",
                    threshold.amber,
                )
            )
    return problems


def _build(
    data: dict[str, Any],
    origins: _Origins,
    *,
    path: Path,
    files: list[Path],
    sha256: str,
    problems: list[Problem],
) -> Scenario:
    """Check merged scenario data block by block and build it, raising every problem found
    here and the ``problems`` already found in reading."""
    problems = list(problems)
    try:
        top = _ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems += _translate(exc, _ScenarioFile, (), origins)
        top = None
    raw_assumptions = data.get("assumptions") if isinstance(data.get("assumptions"), dict) else {}
    published, found = _resolve_published(raw_assumptions, origins)
    problems += found
    assumptions: dict[str, Assumption] = {}
    for name, raw in raw_assumptions.items():
        key = ("assumptions", str(name))
        if not isinstance(name, str) or not _ASSUMPTION_NAME.match(name):
            problems.append(
                _problem(
                    origins,
                    key,
                    "an assumption name in lower case letters, digits and underscores, "
                    "starting with a letter, like agency_share",
                    name,
                )
            )
            continue
        if isinstance(raw, dict) and isinstance(raw.get("value"), dict):
            continue  # its published reference is already reported
        try:
            entry = AssumptionEntry.model_validate(raw)
        except ValidationError as exc:
            problems += _translate(exc, AssumptionEntry, key, origins)
            continue
        found = _assumption_problems(name, entry, origins, published.get(name))
        if found:
            problems += found
            continue
        assumptions[name] = Assumption(name=name, published=published.get(name), **dict(entry))
    settings = None
    raw_settings = data.get("settings")
    if isinstance(raw_settings, dict):
        try:
            settings = Settings.model_validate(raw_settings)
        except ValidationError as exc:
            problems += _translate(exc, Settings, ("settings",), origins)
            # Blocks that are well formed are still checked, so their problems show now too.
            rag = _quietly(RagSettings, raw_settings.get("rag"))
            sensitivity = _quietly(SensitivitySettings, raw_settings.get("sensitivity"))
        else:
            rag, sensitivity = settings.rag, settings.sensitivity
        if rag is not None:
            problems += _rag_problems(rag, origins)
        if sensitivity is not None:
            problems += _grid_size_problems(sensitivity, origins)
    # The grid's range is checked against its assumptions' ranges only once those are sound.
    if settings is not None and len(assumptions) == len(raw_assumptions):
        settings, found = _grid_ranges(settings, assumptions, origins)
        problems += found
    if problems or top is None or settings is None:
        raise InputError(problems)
    return Scenario(
        name=top.name,
        description=top.description,
        settings=settings,
        assumptions=assumptions,
        path=path,
        files=files,
        sha256=sha256,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- the scenario --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: named assumptions and typed settings, with where they came from.

    Two scenarios are equal when their names, descriptions, settings and assumptions are; the
    file they were read from does not count.
    """

    name: str
    description: str
    settings: Settings
    assumptions: dict[str, Assumption]
    #: The file this scenario was read from (a YAML file or an Excel workbook).
    path: Path = field(compare=False)
    #: This file and every file it extends, child first, for provenance.
    files: list[Path] = field(compare=False)
    #: SHA-256 of :attr:`path`'s bytes.
    sha256: str = field(compare=False)
    #: Values changed by :meth:`with_values` since the file was read.
    overrides: dict[str, float] = field(default_factory=dict, compare=False)

    def _missing(self, names: Iterable[str], needed_by: str) -> list[Problem]:
        base = display_path(self.files[-1])
        return [
            Problem(
                file=display_path(self.path),
                location=f"key 'assumptions.{name}'",
                expected=f"an assumption '{name}'{_did_you_mean(name, self.assumptions)}, which "
                f"{needed_by} needs; add it to {base} with value, unit, source, low, high and "
                "description",
                has_value=False,
            )
            for name in names
            if name not in self.assumptions
        ]

    def assumption(self, name: str) -> Assumption:
        """Return the named assumption.

        Raises
        ------
        InputError
            If the scenario has no assumption of that name.
        """
        found = self.assumptions.get(name)
        if found is None:
            raise InputError(self._missing([name], "the model"))
        return found

    def value(self, name: str) -> float:
        """Return the named assumption's value.

        Raises
        ------
        InputError
            If the scenario has no assumption of that name.
        """
        return self.assumption(name).value

    def require(self, names: Iterable[str], model: str) -> None:
        """Check that every assumption ``model`` needs is present, naming all that are not.

        Raises
        ------
        InputError
            With one problem per missing assumption, naming the scenario file.
        """
        problems = self._missing(list(names), model)
        if problems:
            raise InputError(problems)

    def with_values(self, **overrides: float) -> Scenario:
        """Return a copy with new values for some assumptions, each checked against its range.

        Raises
        ------
        InputError
            If a name is not an assumption, a value is not a finite number, or a value lies
            outside its assumption's low..high range or its unit's bounds.
        """
        shown = display_path(self.path)
        origins: _Origins = {(): _Origin(file=shown)}
        problems = self._missing(overrides, "with_values")
        updated = dict(self.assumptions)
        for name, number in overrides.items():
            current = self.assumptions.get(name)
            if current is None:
                continue
            key = ("assumptions", name, "value")
            if (
                isinstance(number, bool)
                or not isinstance(number, int | float)
                or not math.isfinite(number)
            ):
                problems.append(
                    _problem(origins, key, "a finite number (set by with_values)", number)
                )
                continue
            changed = current.model_copy(update={"value": float(number)})
            found = _assumption_problems(name, changed, origins, None)
            problems += found
            updated[name] = changed
        if problems:
            raise InputError(problems)
        return dataclasses.replace(
            self,
            assumptions=updated,
            overrides={**self.overrides, **{k: float(v) for k, v in overrides.items()}},
        )

    def assumptions_table(self) -> pd.DataFrame:
        """Return one row per assumption, in file order, with the columns of the Excel sheet."""
        rows = [
            {column: getattr(a, column) for column in ASSUMPTION_COLUMNS}
            for a in self.assumptions.values()
        ]
        table = pd.DataFrame(rows, columns=list(ASSUMPTION_COLUMNS))
        return table.astype({"value": "float64", "low": "float64", "high": "float64"})


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and check a scenario file and every file it extends.

    Parameters
    ----------
    path
        A YAML scenario, or an Excel workbook written by :func:`export_scenario_to_excel`.
        ``None`` or blank means ``scenarios/base.yaml``; a relative path is taken from the
        current folder when it exists there, else from the project root.

    Raises
    ------
    InputError
        Naming every problem found: missing or unreadable files, an ``extends`` that loops or
        leaves the scenario's folder, unknown keys, missing fields, wrong types, ranges with
        low above high, values outside their range or unit, unknown distributions, and grids
        larger than their limit.
    """
    file = _resolve_user_path(path)
    if file.suffix.lower() in _EXCEL_SUFFIXES:
        return load_scenario_from_excel(file)
    data, origins, files, problems = _read_chain(file)
    return _build(data, origins, path=file, files=files, sha256=_sha256(file), problems=problems)


# ---- Excel round trip --------------------------------------------------------------------


def _flatten(model: BaseModel, prefix: Key = ()) -> list[tuple[str, object, str]]:
    """Return ``(dotted key, value, description)`` for every leaf of a settings model."""
    rows = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows += _flatten(value, (*prefix, name))
        else:
            rows.append((_dotted((*prefix, name)), value, info.description or ""))
    return rows


def export_scenario_to_excel(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario to a workbook an analyst can edit and read back.

    The ``assumptions`` sheet has one row per assumption (columns :data:`ASSUMPTION_COLUMNS`);
    the ``settings`` sheet has one row per setting (key, value, description), with the
    scenario's name and description first. Published values are written as numbers, with the
    published figure's name in the ``published`` column.

    Raises
    ------
    InputError
        If the workbook cannot be written there.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    target = Path(path)
    book = Workbook()
    sheet = book.active
    sheet.title = "assumptions"
    sheet.append(list(ASSUMPTION_COLUMNS))
    for a in scenario.assumptions.values():
        sheet.append([getattr(a, column) for column in ASSUMPTION_COLUMNS])
    widths = {"A": 36, "B": 12, "C": 28, "D": 60, "E": 12, "F": 12, "G": 14, "H": 60, "I": 36}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    settings = book.create_sheet("settings")
    settings.append(list(_SETTINGS_COLUMNS))
    settings.append(["name", scenario.name, _ScenarioFile.model_fields["name"].description])
    settings.append(
        ["description", scenario.description, _ScenarioFile.model_fields["description"].description]
    )
    # A grid axis that spans its assumption's whole range is left blank, so that it follows
    # the range when the analyst edits low or high in the assumptions sheet.
    spanning = {
        f"sensitivity.{axis}.{end}"
        for axis, name in GRID_AXES.items()
        for end in ("low", "high")
        if getattr(getattr(scenario.settings.sensitivity, axis), end)
        == getattr(scenario.assumptions[name], end)
    }
    for key, value, description in _flatten(scenario.settings):
        settings.append([key, None if key in spanning else value, description])
    for column, width in {"A": 50, "B": 24, "C": 80}.items():
        settings.column_dimensions[column].width = width
    for ws in (sheet, settings):
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
    try:
        book.save(target)
    except OSError as exc:
        raise InputError(
            [
                Problem(
                    file=str(target),
                    expected=f"a writable place for the workbook ({exc.strerror})",
                    has_value=False,
                )
            ]
        ) from exc
    return target


def _cell(value: object) -> object:
    """Normalise a cell: blank text is blank, whole floats are whole numbers."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sheet_rows(
    book: Any, sheet_name: str, columns: tuple[str, ...], required: tuple[str, ...], shown: str
) -> tuple[list[tuple[int, dict[str, object]]], list[Problem]]:
    """Return the sheet's non-blank rows as ``(row number, {column: cell})``, header checked."""
    if sheet_name not in book.sheetnames:
        return [], [
            Problem(
                file=shown,
                expected=f"a sheet named '{sheet_name}' (the sheets found are "
                f"{', '.join(book.sheetnames)})",
                has_value=False,
            )
        ]
    rows = list(book[sheet_name].iter_rows(values_only=True))
    header = [_cell(v) for v in (rows[0] if rows else ())]
    problems = []
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name is None:
            continue
        if name not in columns:
            problems.append(
                Problem(
                    file=shown,
                    location=f"sheet '{sheet_name}'",
                    row=1,
                    column=str(name),
                    value=name,
                    expected=f"a known column{_did_you_mean(str(name), columns)}: "
                    f"{', '.join(columns)}",
                )
            )
        else:
            positions[str(name)] = index
    missing = [c for c in required if c not in positions]
    if missing:
        problems.append(
            Problem(
                file=shown,
                location=f"sheet '{sheet_name}'",
                row=1,
                expected=f"a header row with the columns {', '.join(columns)}; missing "
                f"{', '.join(missing)}",
                has_value=False,
            )
        )
        # Rows cannot be read without their name or key column; the header is the problem.
        return [], problems
    found = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: _cell(row[i]) if i < len(row) else None for name, i in positions.items()}
        if any(v is not None for v in cells.values()):
            found.append((number, cells))
    return found, problems


def _excel_data(book: Any, shown: str) -> tuple[dict[str, Any], _Origins, list[Problem]]:
    """Turn a workbook's two sheets into scenario data, with the cell of every key."""
    origins: _Origins = {(): _Origin(file=shown)}
    data: dict[str, Any] = {"settings": {}, "assumptions": {}}
    origins[("assumptions",)] = _Origin(file=shown, sheet="assumptions")
    origins[("settings",)] = _Origin(file=shown, sheet="settings")
    for name in ("name", "description"):
        origins[(name,)] = _Origin(file=shown, sheet="settings")
    rows, problems = _sheet_rows(
        book, "assumptions", ASSUMPTION_COLUMNS, _REQUIRED_ASSUMPTION_COLUMNS, shown
    )
    for number, cells in rows:
        name = cells.pop("name")
        at = _Origin(file=shown, sheet="assumptions", row=number, column="name")
        if name is None or name in data["assumptions"]:
            problems.append(
                _problem(
                    {(): at},
                    (),
                    "the name of an assumption, written once"
                    if name is not None
                    else "the assumption's name in this row",
                    name,
                    has_value=name is not None,
                )
            )
            continue
        name = str(name)
        key = ("assumptions", name)
        origins[key] = at
        entry: dict[str, object] = {}
        for column, value in cells.items():
            origins[(*key, column)] = _Origin(
                file=shown, sheet="assumptions", row=number, column=column
            )
            if value is not None and column != "published":
                entry[column] = value
        reference = cells.get("published")
        if reference is not None:
            entry["value"] = {"published": reference, "sheet_value": cells.get("value")}
            origins[(*key, "value", "published")] = origins[(*key, "published")]
        data["assumptions"][name] = entry
    rows, found = _sheet_rows(book, "settings", _SETTINGS_COLUMNS, _SETTINGS_COLUMNS[:2], shown)
    problems += found
    seen: set[str] = set()
    for number, cells in rows:
        dotted, value = cells.get("key"), cells.get("value")
        at = _Origin(file=shown, sheet="settings", row=number, column="value")
        if dotted is None or str(dotted) in seen:
            problems.append(
                _problem(
                    {(): _Origin(file=shown, sheet="settings", row=number, column="key")},
                    (),
                    "a setting's key, written once" if dotted else "the setting's key in this row",
                    dotted,
                    has_value=dotted is not None,
                )
            )
            continue
        seen.add(str(dotted))
        if isinstance(value, datetime | date):
            # Excel turns a typed 2021-04 into a date; a month is what every setting means.
            value = f"{value.year:04d}-{value.month:02d}"
        if dotted in ("name", "description"):
            data[str(dotted)] = value
            origins[(str(dotted),)] = at
            continue
        key = ("settings", *str(dotted).split("."))
        origins[key] = at
        target = data["settings"]
        for part in key[1:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        if not isinstance(target, dict) or (
            value is not None and isinstance(target.get(key[-1]), dict)
        ):
            # 'la_code' and 'la_code.x' in two rows: one would silently drop the other.
            problems.append(
                _problem(
                    origins,
                    key,
                    "a key that does not clash with another row's: a setting is either one "
                    "value or a block of settings inside it, not both",
                    about_key=True,
                )
            )
            continue
        if value is not None:
            target[key[-1]] = value
    return data, origins, problems


def _check_sheet_values(data: dict[str, Any], origins: _Origins) -> list[Problem]:
    """A published value edited in the sheet conflicts with its reference; say which to fix."""
    problems = []
    figures = None
    for name, entry in data["assumptions"].items():
        reference = entry.get("value")
        if not isinstance(reference, dict) or "sheet_value" not in reference:
            continue
        sheet_value = reference.pop("sheet_value")
        if sheet_value is None:
            continue
        if isinstance(sheet_value, bool) or not isinstance(sheet_value, int | float):
            problems.append(
                _problem(
                    origins,
                    ("assumptions", name, "value"),
                    f"a number{_text_hint(sheet_value)}, or a blank cell to use the published "
                    "figure named in the 'published' column",
                    sheet_value,
                )
            )
            continue
        if figures is None:
            table = load_published_assumptions()
            figures = dict(zip(table["name"], table["value"], strict=True))
        wanted = reference.get("published")
        if wanted in figures and sheet_value != figures[wanted]:
            problems.append(
                _problem(
                    origins,
                    ("assumptions", name, "value"),
                    f"the published figure {figures[wanted]:g} named in the 'published' column "
                    f"('{wanted}'); to use your own value, clear that cell and give a source",
                    sheet_value,
                )
            )
    return problems


def load_scenario_from_excel(path: str | Path) -> Scenario:
    """Read a scenario workbook back through the same checks as a YAML scenario.

    A month typed into Excel (which Excel turns into a date) is read as ``YYYY-MM``.

    Raises
    ------
    InputError
        Naming the sheet, row and column of every problem, or the file when it is missing or
        not a workbook.
    """
    from openpyxl import load_workbook

    file = Path(path).resolve()
    shown = display_path(file)
    if not file.is_file():
        raise InputError([Problem(file=shown, expected="an existing workbook", has_value=False)])
    not_a_workbook = InputError(
        [
            Problem(
                file=shown,
                expected="an Excel workbook (.xlsx) written by export_scenario_to_excel",
                has_value=False,
            )
        ]
    )
    # Loaded whole (not read-only, which parses a sheet only when its rows are read), so a
    # damaged file fails here and nowhere later. openpyxl raises whatever its zip, XML or cell
    # parsing hits (BadZipFile, zlib.error, ParseError, IndexError, ValueError, ...); within this
    # one call, each means the same to the user: the file is not a readable workbook.
    try:
        book = load_workbook(file, data_only=True)
    except Exception as exc:
        raise not_a_workbook from exc
    try:
        data, origins, problems = _excel_data(book, shown)
    finally:
        book.close()
    problems += _check_sheet_values(data, origins)
    return _build(data, origins, path=file, files=[file], sha256=_sha256(file), problems=problems)
