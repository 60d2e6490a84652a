"""What a report rests on: the experiments' provenance and the trials by method, mode and status."""

from __future__ import annotations

import json
import logging
import posixpath

import pandas as pd

from .core.frame import STATUSES
from .report import Report
from .tidy import Location, final_rows

log = logging.getLogger(__name__)

SPEC_FILE = "study_spec.json"
RUN_FILE = "study_run.json"


def experiment_metadata(where: str) -> dict[str, dict]:
    """The spec and provenance a `study run` saved beside Tune's files (empty where absent or unreadable)."""
    location = Location.parse(where)
    found: dict[str, dict] = {}
    for key, name in (("spec", SPEC_FILE), ("run", RUN_FILE)):
        path = posixpath.join(location.path, name)
        try:
            if location.exists(path):
                found[key] = json.loads(location.read_text(path))
        except (OSError, ValueError) as error:
            log.warning("ignoring unreadable %s: %s", path, error)
    return found


def guided_search(metadata: dict[str, dict]) -> bool:
    """True when a guided sampler (Optuna TPE) chose the trials: their importances are biased."""
    return any(m.get("spec", {}).get("search", {}).get("kind") == "optuna" for m in metadata.values())


def status_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Trials per method and weighting mode by how they ended, with seeds and budgets."""
    final = final_rows(tidy)
    keys = ["config/method", "config/weighting"]
    table = pd.crosstab([final[k] for k in keys], final["status"]).reindex(columns=[s for s in STATUSES if s in set(final["status"])], fill_value=0)
    grouped = final.groupby(keys)
    table["trials"] = grouped.size()
    table["seeds"] = grouped["config/seed"].nunique()
    # a foreign Tune experiment may not record its budget in the config: then it is unknown, not an error
    table["epochs (configured)"] = grouped["config/epochs"].max() if "config/epochs" in final.columns else "not recorded"
    table["epochs reached (min-max)"] = grouped["epoch"].agg(lambda e: f"{e.min()}-{e.max()}")
    table = table.reset_index()
    table.columns = [str(c).removeprefix("config/") for c in table.columns]
    return table


def add_overview(report: Report, tidy: pd.DataFrame, metadata: dict[str, dict]) -> None:
    """The section every report opens with: where the numbers come from and how many trials they rest on."""
    final = final_rows(tidy)
    report.heading("What this report rests on")
    counts = final["status"].value_counts()
    report.text(
        f"{final['trial_id'].nunique()} trials from {len(metadata)} experiment(s); "
        + ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in STATUSES if counts.get(s, 0))
        + f"; seeds {sorted(final['config/seed'].unique().tolist())}."
    )
    for name, meta in metadata.items():
        spec, run = meta.get("spec", {}), meta.get("run", {})
        if spec or run:
            search = spec.get("search", {}).get("kind", "?")
            scheduler = spec.get("scheduler", {}).get("kind", "?")
            dataset = spec.get("dataset", {}).get("name", "?")
            resumes = run.get("resumes", [])
            minutes = sum(r.get("duration_s", 0.0) for r in [run, *resumes]) / 60
            resumed = f", resumed {len(resumes)} time(s) (the first run's time is lost when its driver was killed)" if resumes else ""
            report.text(
                f"{name}: dataset {dataset}, search {search}, scheduler {scheduler}; "
                f"command `{run.get('command', '?')}`, commit {run.get('commit', '?')[:12]}, started {run.get('started', '?')}, "
                f"{minutes:.1f} min on {run.get('machine', '?')}{resumed}."
            )
        else:
            report.text(f"{name}: no study_spec.json / study_run.json (not launched by `study run`); provenance unknown.")
    skipped = tidy.attrs.get("skipped", [])
    if skipped:
        report.note(f"{len(skipped)} damaged trial director{'y was' if len(skipped) == 1 else 'ies were'} skipped: " + "; ".join(f"{p} ({r})" for p, r in skipped))
    report.table("trials", status_table(tidy), caption="trials by method, weighting mode and how they ended")
    report.definitions(
        {
            "finished": "reached the configured epochs.",
            "early_stopped": "stopped by the ASHA scheduler at a rung; compared only at budgets it reached.",
            "diverged": "a loss became NaN or infinite; an outcome of its weights, counted in divergence rates.",
            "error": "the trial raised and its retries did not recover it; it keeps the metrics of its last reported epoch.",
            "unfinished": "had not ended when the experiment was last saved.",
        }
    )
