"""The project's own files: the version written once, and the lint and type-check settings that
CONTRIBUTING.md and .pre-commit-config.yaml rely on."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

import zslbench

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on Python 3.10 needs tomli")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once():
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "zslbench.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", zslbench.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{zslbench.__version__}]" in changelog


def test_lint_and_type_settings_and_their_hooks():
    tool = _pyproject()["tool"]
    assert tool["ruff"]["line-length"] == 120 and tool["mypy"]["files"] == ["zslbench"]
    for override in tool["mypy"].get("overrides", []):
        assert override["module"] and override["disable_error_code"], override  # narrow, never a blanket ignore
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["ruff", "ruff-format", "mypy"]
