"""Scoring files: CSV/Parquet, streaming, atomic output, fuzzed input, the CLI."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffdx.batch import output_columns
from diffdx.cli import main
from diffdx.files import score_file
from diffdx.simulate import simulate_cases


@pytest.fixture(scope="module")
def case_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "cases.csv"
    simulate_cases(120, seed=5).to_csv(path, index=False)
    return path


def test_csv_to_csv_in_chunks_matches_one_shot(case_csv, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    s1 = score_file(case_csv, a, id_column="id", chunksize=7)
    s2 = score_file(case_csv, b, id_column="id", chunksize=10_000)
    assert s1.rows == s2.rows == 120 and s1.errors == 0
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
    assert sum(s1.triage.values()) == 120


def test_parquet_in_and_out_agree_with_csv(case_csv, tmp_path):
    pq_in = tmp_path / "cases.parquet"
    pd.read_csv(case_csv, dtype=str, keep_default_na=False).to_parquet(pq_in)
    score_file(case_csv, tmp_path / "ref.csv", id_column="id")
    score_file(pq_in, tmp_path / "out.parquet", id_column="id", chunksize=50)
    ref = pd.read_csv(tmp_path / "ref.csv")
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert list(got.columns) == list(ref.columns)
    np.testing.assert_array_equal(got["p_dvt"].to_numpy(dtype=float), ref["p_dvt"].to_numpy())
    assert got["id"].tolist() == ref["id"].tolist()


def test_empty_file_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "empty.csv"
    src.write_text("")
    assert main(["score", str(src), "-o", str(tmp_path / "out.csv")]) == 1
    assert "is empty: no header, no rows" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_header_only_gives_empty_output_with_full_header(kb, tmp_path):
    src = tmp_path / "header.csv"
    src.write_text("id,age,fever\n")
    summary = score_file(src, tmp_path / "out.csv", id_column="id")
    assert summary.rows == 0
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [output_columns(kb, id_column="id")]


def test_crash_leaves_no_output_and_keeps_the_old_file(case_csv, tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    import diffdx.files as files

    calls = []
    real = files.score_frame

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "score_frame", failing)
    with pytest.raises(KeyboardInterrupt):
        score_file(case_csv, target, id_column="id", chunksize=30)
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_input_is_never_the_output(case_csv):
    from diffdx.files import CaseFileError

    with pytest.raises(CaseFileError, match="must not be the input"):
        score_file(case_csv, case_csv)


cell = st.one_of(
    st.sampled_from(["yes", "no", "", " Yes ", "NA", "maybe", "1", "0", "true", "7"]),
    st.text(max_size=5),
    st.text(alphabet='é漢字\u00a0\n",;', max_size=4),
    st.just("x" * 5000),
)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), n=st.integers(0, 12), bom=st.booleans())
def test_fuzzed_files_lose_nothing(tmp_path, data, n, bom):
    cols = ["age", "sex", "fever", "calf_swelling", "runner"]
    rows = [[f"id{i}", *(data.draw(cell) for _ in cols)] for i in range(n)]
    src, out = tmp_path / "fuzz.csv", tmp_path / "fuzz_out.csv"
    with open(src, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *cols])
        writer.writerows(rows)
    summary = score_file(src, out, id_column="id", chunksize=5)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert summary.rows == n == len(got)
    assert got["id"].tolist() == [r[0] for r in rows]
    scored = got["error"] == ""
    assert (got.loc[scored, "triage"] != "").all()
    assert (got.loc[~scored, "p_dvt"] == "").all()
    assert summary.errors == int((~scored).sum())


def test_cli_score_and_summary(case_csv, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    assert main(["score", str(case_csv), "-o", str(out), "--id-column", "id", "--top", "2"]) == 0
    err = capsys.readouterr().err
    assert "scored 120 of 120 rows (0 with errors)" in err and "triage:" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    assert "cause_2" in pd.read_csv(out).columns


def test_cli_unknown_column_exit_1(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("id,calf_sweling\n1,yes\n")
    assert main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--id-column", "id"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'calf_swelling'" in err


def test_cli_strict(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("id,fever\n1,yes\n2,maybe\n")
    assert (
        main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--strict", "--id-column", "id"])
        == 1
    )
    assert "Row 2 (index 1): column 'fever'" in capsys.readouterr().err


def test_cli_template_and_variables(kb, tmp_path, capsys):
    path = tmp_path / "blank.csv"
    assert main(["template", "-o", str(path)]) == 0
    header = path.read_text().strip().split(",")
    assert header[:3] == ["id", "age", "sex"] and len(header) == 3 + len(kb.risk_factors) + len(
        kb.findings
    )
    capsys.readouterr()
    assert main(["variables"]) == 0
    out = capsys.readouterr().out
    assert "cold_pale_leg" in out and "(red flag)" in out and "F/M" in out


def test_cli_rank(capsys):
    assert main(["rank", "--yes", "calf_swelling,warmth", "--no", "fever", "--age", "60"]) == 0
    out = capsys.readouterr().out
    assert "Ranked differential" in out and "Ask or test next:" in out


def test_cli_rank_conflict(capsys):
    assert main(["rank", "--yes", "fever", "--no", "fever"]) == 1
    assert "both with --yes and --no" in capsys.readouterr().err


def test_csv_column_named_twice_is_an_error(tmp_path, capsys):
    src = tmp_path / "dup.csv"
    src.write_text("id,fever,age,fever\n1,yes,40,no\n")
    assert main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--id-column", "id"]) == 1
    assert "named more than once: 'fever'" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("id,fever,runner\na,yes,no\nb,no\n", "Expected 3 columns, got 2: b,no"),
        ("id,fever,runner\na,yes,no\nb,no,no,yes\n", "Expected 3 columns, got 4"),
    ],
)
def test_ragged_row_fails_the_file_clearly(tmp_path, capsys, body, message):
    src, out = tmp_path / "ragged.csv", tmp_path / "out.csv"
    src.write_text(body)
    assert main(["score", str(src), "-o", str(out), "--id-column", "id"]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()  # never a row silently read as unknowns, never half a file


def test_gzipped_csv_scores_like_plain(case_csv, tmp_path):
    import gzip

    packed = tmp_path / "cases.csv.gz"
    with open(case_csv, "rb") as plain, gzip.open(packed, "wb") as handle:
        handle.write(plain.read())
    score_file(case_csv, tmp_path / "a.csv", id_column="id")
    score_file(packed, tmp_path / "b.csv", id_column="id")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


def test_chunks_number_rows_on_across_the_file(case_csv):
    from diffdx.files import iter_cases

    chunks = list(iter_cases(case_csv, chunksize=50))
    assert [len(c) for c in chunks] == [50, 50, 20]
    assert pd.concat(chunks).index.tolist() == list(range(120))
    assert (pd.concat(chunks)["id"] == pd.read_csv(case_csv, dtype=str)["id"]).all()
