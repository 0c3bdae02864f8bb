"""The installed package finds its bundled model from any working directory."""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import diffdx

ROOT = Path(__file__).resolve().parent.parent


def _editable() -> bool:
    text = metadata.distribution("diffdx").read_text("direct_url.json") or "{}"
    return bool(json.loads(text).get("dir_info", {}).get("editable"))


def test_bundled_model_from_any_directory(tmp_path):
    code = (
        "import diffdx; kb = diffdx.load_kb('calf_pain'); "
        "print(kb.name, len(kb.causes), diffdx.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    name, n, where = out.stdout.split()
    assert (name, n) == ("calf_pain", str(len(diffdx.load_kb("calf_pain").causes)))
    if not _editable():
        # a real install: the code and the model come from site-packages, not the checkout
        assert "site-packages" in Path(where).parts
        assert Path(where).resolve().parent != ROOT / "diffdx"
        assert "calf_pain" in diffdx.list_models()


def test_command_line_entry_point(tmp_path):
    exe = Path(sys.executable).with_name("diffdx")
    out = subprocess.run([str(exe), "model"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Model 'calf_pain'" in out.stdout


def test_python_dash_m(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "diffdx", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"diffdx {diffdx.__version__}"
