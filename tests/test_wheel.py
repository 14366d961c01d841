"""The built wheel works without the source checkout (issue 11, item 5).

A copy of the checkout is built into a wheel (no network: ``--no-build-isolation``); the wheel must hold every
module and every data file of the packages, the prompts and the default corpus (shipped as ``core/prompts`` and
``core/plans``), so a new data file that is not packaged fails here. The wheel, unpacked ahead of the editable
install on ``sys.path``, then loads its rules, prompts and corpus from its own copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # builds a wheel (a few seconds)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ingest", "vectorstore", "assistant", "ui")
# Top-level data directories of the checkout -> where the wheel ships them (core/config.py finds either).
SHIPPED_DIRS = {"prompts": "core/prompts", "data/plans": "core/plans"}
# Not copied into the build: environments, caches, build output, test output.
_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "var",
                                 "test-artifacts", ".*_cache", ".hypothesis", ".import_linter_cache")


def _source_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc" and not p.name.startswith(".") and not p.name.endswith("~"))


def expected_wheel_files() -> set[str]:
    """Every module and data file the installed code needs, by its path in the wheel."""
    expected = {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in _source_files(ROOT / package)}
    for source, shipped in SHIPPED_DIRS.items():
        files = _source_files(ROOT / source)
        assert files, f"{source}/ is empty"
        expected |= {f"{shipped}/{p.relative_to(ROOT / source).as_posix()}" for p in files}
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy, so the checkout gets no build/ or egg-info changes."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    out = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                    "-q", "-w", str(out), str(src)], check=True, cwd=base, timeout=120)
    (built,) = out.glob("plan_assistant-*.whl")
    return built


def test_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(expected_wheel_files() - names)
    assert not missing, f"not in the wheel (add to [tool.setuptools] in pyproject.toml): {missing}"
    entry_points = zipfile.ZipFile(wheel).read("plan_assistant-0.1.0.dist-info/entry_points.txt").decode()
    assert "plan-assistant = assistant.cli:main" in entry_points


CHECK = """
import json, sys
from pathlib import Path
site = Path(sys.argv[1]).resolve()
import core.config as config
from assistant.drafting import llm as drafting_llm
from assistant.qa import answer_checks, evidence, intent_model, llm, plan
from core import normalize
from ingest import ocr_text, units
print(json.dumps({
    "modules": [m.__file__ for m in (config, plan, llm, normalize, ocr_text)],
    "corpus_dir": str(config.DEFAULT_CORPUS_DIR), "settings_corpus_dir": str(config.Settings().corpus_dir),
    "plans": sorted(p.name for p in config.DEFAULT_CORPUS_DIR.glob("*.txt")),
    "prompts_dir": str(config.PROMPTS_DIR),
    "prompts": [len(llm.load_prompt(n)) for n in ("answer_system.md", "answer_user.md")]
               + [len(drafting_llm.PROMPT_FILE.read_text(encoding="utf-8"))],
    "rules": len(plan.rules()), "checks": len(answer_checks.checks()[0]),
    "examples": len(intent_model.labelled_questions()), "synonyms": len(evidence.synonyms()),
    "abbreviations": len(normalize.abbreviations()),
}))
"""


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    """Unpacked ahead of the checkout's editable install (whose finder comes after ``sys.path``), run from
    elsewhere: the wheel's own rules, prompts and corpus load."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "PLAN_ASSISTANT_CONFIG_FILE": str(tmp_path / "none.toml")}
    env.pop("PLAN_ASSISTANT_CORPUS_DIR", None)
    run = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert all(Path(m).is_relative_to(site) for m in found["modules"]), found["modules"]
    assert found["corpus_dir"] == found["settings_corpus_dir"] == str(site / "core" / "plans")
    assert found["plans"] == sorted(p.name for p in (ROOT / "data" / "plans").glob("*.txt"))
    assert len(found["plans"]) >= 5
    assert found["prompts_dir"] == str(site / "core" / "prompts")
    assert all(found["prompts"])
    assert found["rules"] and found["checks"] and found["examples"] and found["synonyms"] and found["abbreviations"]

    cli = subprocess.run([sys.executable, "-c", "import sys; from assistant.cli import main; sys.argv[0] = "
                          "'plan-assistant'; main()", "--help"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert "plan-assistant" in cli.stdout and "serve" in cli.stdout
