"""Input errors: one clear paragraph per problem, naming file, row, column, value and expectation.

A user mistake (a bad file, a bad scenario, a bad command-line value) is raised as
:class:`InputError`, which carries every :class:`Problem` found in the input so that a person
can fix them all in one go. The command line prints these paragraphs and exits with status 2;
it never shows a Python traceback for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from analysis.paths import display_path

#: How many problems one error reports before summarising the rest.
MAX_PROBLEMS_REPORTED = 20

_MAX_VALUE_CHARS = 60


def describe_value(value: object) -> str:
    """Return a short, printable rendering of an offending value for a message."""
    if value is None:
        return "a blank cell"
    if isinstance(value, float) and value != value:
        return "a blank cell"
    text = str(value)
    if text.strip() == "":
        return "a blank cell" if text == "" else f"only spaces ({text!r})"
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return repr(text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    file
        The file as the user knows it (relative to the project root when inside it).
    expected
        What the value should have been, in plain words.
    row
        The row as a person counts it in the file: the header is row 1, the first data row is
        row 2. ``None`` when the problem concerns the whole file or a whole column.
    column
        The column (or scenario key, or sheet column) concerned, when there is one.
    value
        The offending value as it was read.
    location
        A free description used instead of ``row`` where rows do not apply (a YAML key path,
        an Excel sheet name).
    """

    file: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: object = None
    location: str | None = None
    has_value: bool = True

    def message(self) -> str:
        """Return the problem as one paragraph."""
        where = [f"In {self.file}"]
        if self.location:
            where.append(self.location)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        found = f": found {describe_value(self.value)}" if self.has_value else ""
        return f"{', '.join(where)}{found}; expected {self.expected}."


class InputError(Exception):
    """A user's input is wrong; carries every problem found, to be fixed together."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(self.report())

    def report(self) -> str:
        """Return one paragraph per problem, capped at :data:`MAX_PROBLEMS_REPORTED`."""
        shown = self.problems[:MAX_PROBLEMS_REPORTED]
        paragraphs = [p.message() for p in shown]
        hidden = len(self.problems) - len(shown)
        if hidden:
            paragraphs.append(
                f"... and {hidden} more problem(s) of the same kinds; fix those above and run "
                "again to see the rest."
            )
        return "\n\n".join(paragraphs)


def file_problem(
    path: Path | str, expected: str, value: object = None, *, has_value: bool = True
) -> InputError:
    """Return an :class:`InputError` about a whole file (empty, wrong encoding, wrong layout)."""
    return InputError(
        [
            Problem(
                file=display_path(Path(path)), expected=expected, value=value, has_value=has_value
            )
        ]
    )
