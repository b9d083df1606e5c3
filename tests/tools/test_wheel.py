"""The package installs anywhere: a wheel built from the repo holds every file of xai_tutorial/,
and installed without -e into a fresh virtual environment it imports every module and runs a checker."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from bookpages import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the package's own files (nothing is written into the repo)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "xai_tutorial", src / "xai_tutorial",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(src)],
                   check=True, capture_output=True, text=True)
    (whl,) = out.glob("xai_tutorial-*.whl")
    return whl


def package_files() -> set[str]:
    """Every file of xai_tutorial/ that git tracks (or would track), as paths inside the wheel."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "xai_tutorial"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    return {f for f in listed if (ROOT / f).is_file()}


def test_wheel_contains_every_file_of_the_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(package_files() - names)
    assert not missing, f"the wheel leaves out {missing}"
    assert "xai_tutorial/exercises/core.py" in names


def test_wheel_installs_without_editable_mode_and_imports_every_module(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True)
    # the dependencies (numpy, tensorflow, shap, ...) come from this environment's site-packages;
    # a path added by a .pth file does not run the .pth files inside it, so the editable install
    # of the repo's package stays invisible to the new environment
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = """
import importlib, pathlib, pkgutil, sys
import xai_tutorial
assert pathlib.Path(xai_tutorial.__file__).is_relative_to(pathlib.Path(sys.prefix)), xai_tutorial.__file__
names = [m.name for m in pkgutil.walk_packages(xai_tutorial.__path__, "xai_tutorial.")]
for name in names:
    importlib.import_module(name)
from xai_tutorial.exercises import ch04
assert ch04.check_toy_permutation_importance(2 / 3, 0.0)
assert not ch04.check_toy_permutation_importance(None, 0.0)
print(" ".join(sorted(names)))
"""
    run = subprocess.run([str(py), "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr[-3000:]
    imported = set(run.stdout.split())
    expected = {f[:-3].replace("/", ".").removesuffix(".__init__") for f in package_files() if f.endswith(".py")}
    assert imported == expected - {"xai_tutorial"}
