import importlib
import pkgutil
import subprocess
import sys

import diffdx


def test_all_names_resolve():
    for name in diffdx.__all__:
        assert getattr(diffdx, name) is not None, name
    assert sorted(diffdx.__all__) == list(diffdx.__all__)


def test_import_does_not_import_pgmpy(tmp_path):
    code = "import sys, diffdx; print('pgmpy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "False"


def test_every_module_imports():
    for mod in pkgutil.iter_modules(diffdx.__path__):
        if mod.name != "__main__":
            importlib.import_module(f"diffdx.{mod.name}")


def test_only_two_modules_import_pgmpy():
    import pathlib

    pkg = pathlib.Path(diffdx.__file__).parent
    users = sorted(
        p.name
        for p in pkg.glob("*.py")
        if "pgmpy" in p.read_text().split("__all__")[-1] and "from pgmpy" in p.read_text()
    )
    assert users == ["export.py", "network.py"]
