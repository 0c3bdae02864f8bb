"""Example data shipped with diffdx (see :func:`diffdx.datasets.example_cases_path`)."""
