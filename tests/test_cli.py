"""The command line, called in-process through main(argv)."""

from __future__ import annotations

import pytest

from diffdx.cli import main


def test_model_summary(capsys):
    assert main(["model"]) == 0
    out = capsys.readouterr().out
    assert "Model 'calf_pain'" in out
    assert "Where the numbers come from:" in out
    for kind in ("seed", "literature", "estimate"):
        assert kind in out


def test_demo_ranks_and_scores_the_examples(capsys, tmp_path):
    out_file = tmp_path / "scored.csv"
    assert main(["demo", "-o", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "Ranked differential" in out and "Triage:" in out
    assert "calf_strain" in out
    assert "not medical advice" in out
    assert "scored 296 of 300 rows (4 with errors)" in out
    assert out_file.exists()


@pytest.mark.parametrize("suffix", [".bif", ".xml"])
def test_export(tmp_path, capsys, suffix):
    path = tmp_path / f"model{suffix}"
    assert main(["export", "-o", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("network") if suffix == ".bif" else "<BIF" in text
    assert "wrote" in capsys.readouterr().out


def test_bad_model_file_is_exit_1_with_one_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: Bad Name\n")
    assert main(["model", "--model", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("diffdx: error: ")
    assert "bad.yaml has" in err and "Traceback" not in err


def test_missing_model_is_exit_1(capsys):
    assert main(["model", "--model", "nope"]) == 1
    assert "No bundled model named 'nope'" in capsys.readouterr().err


def test_usage_error_is_exit_2(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_is_exit_0(capsys):
    assert main(["--help"]) == 0
    assert "not medical advice" in " ".join(capsys.readouterr().out.split())


def test_verbose_reraises(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    from diffdx import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError):
        main(["--verbose", "model", "--model", str(bad)])
