"""environment.yml (for conda users) must list the same dependencies as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

import yaml

from analysis import paths

_NAME = re.compile(r"^[A-Za-z0-9_.-]+")


def _names(specs: list[str]) -> set[str]:
    names = set()
    for spec in specs:
        name = _NAME.match(spec.strip()).group(0).lower().replace("_", "-")
        names.add(name)
    return names


def _pyproject_names() -> set[str]:
    project = tomllib.loads((paths.project_root() / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    names = _names(specs)
    # dask[distributed] is one pip requirement but two conda packages.
    if "dask" in names:
        names.add("distributed")
    return names


def _environment_names() -> set[str]:
    environment = yaml.safe_load((paths.project_root() / "environment.yml").read_text())
    conda_specs = [d for d in environment["dependencies"] if isinstance(d, str)]
    return _names(conda_specs) - {"python", "pip"}


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    assert _environment_names() == _pyproject_names()


def test_environment_yml_uses_the_same_minimum_versions() -> None:
    project = tomllib.loads((paths.project_root() / "pyproject.toml").read_text())["project"]
    pins = {}
    for spec in list(project["dependencies"]) + list(project["optional-dependencies"]["test"]):
        name = _NAME.match(spec).group(0).lower()
        pins[name] = spec[len(name) :].replace("[distributed]", "")
    environment = yaml.safe_load((paths.project_root() / "environment.yml").read_text())
    for spec in environment["dependencies"]:
        if not isinstance(spec, str) or spec.startswith(("python", "pip")):
            continue
        name = _NAME.match(spec).group(0).lower()
        expected = pins.get(name, pins.get("dask") if name == "distributed" else None)
        assert spec[len(name) :] == expected, f"{name}: {spec} vs pyproject {expected}"
