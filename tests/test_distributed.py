"""score_dask on a local dask.distributed cluster gives exactly score_frame's rows."""

from __future__ import annotations

import pandas as pd
import pytest

from diffdx import ColumnsError, score_frame
from diffdx.simulate import simulate_cases

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_cluster_results_equal_score_frame(client):
    from diffdx.distributed import score_dask

    df = simulate_cases(90, seed=21)
    df.loc[4, "fever"] = "maybe"
    expected = score_frame(df, id_column="id")
    ddf = dd.from_pandas(df, npartitions=4)
    got = score_dask(ddf, id_column="id").compute()
    assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.loc[4, "error"].startswith("column 'fever'")


def test_bad_columns_fail_before_computing():
    from diffdx.distributed import score_dask

    ddf = dd.from_pandas(pd.DataFrame({"calf_sweling": ["yes"]}), npartitions=1)
    with pytest.raises(ColumnsError, match="did you mean 'calf_swelling'"):
        score_dask(ddf)
