"""The on-screen summary of a study: final metrics per method, weighting mode and weight, over seeds."""

from __future__ import annotations

import pandas as pd

from .tidy import final_rows


def summarize(tidy: pd.DataFrame, metrics: tuple[str, ...] = ("mig", "recon_bce")) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each metric at each trial's last epoch.

    Rows: method x weighting x starting weights; `trials` counts the seeds behind each row and
    `statuses` how those trials ended.
    """
    final = final_rows(tidy)
    weight_columns = sorted(c for c in final.columns if c.startswith("config/weights/"))
    keys = ["config/method", "config/weighting"] + weight_columns
    present = [m for m in metrics if m in final.columns]
    grouped = final.groupby(keys, dropna=False)
    table = grouped[present].agg(["mean", "std"])
    table.columns = [f"{metric} {stat}" for metric, stat in table.columns]
    table["trials"] = grouped.size()
    table["statuses"] = grouped["status"].agg(lambda s: ",".join(f"{k}:{v}" for k, v in s.value_counts().items()))
    table = table.reset_index()
    table.columns = [c.removeprefix("config/weights/").removeprefix("config/") for c in table.columns]
    return table
