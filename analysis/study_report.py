"""`study report`: how sensitive each method is to its loss weights, from one or more experiments."""

from __future__ import annotations

import logging
import posixpath
from pathlib import Path

import pandas as pd

from trainables.metric_registry import EVAL_KEYS, REPORTED, label_of

from . import figures
from .core.budgets import evaluated_budgets, trial_values
from .core.frame import metric_mode, weight_columns
from .glossary import INDEX_DEFINITIONS
from .importance import INDEX_DEFINITIONS as IMPORTANCE_DEFINITIONS
from .importance import weight_importance
from .overview import add_overview, experiment_metadata, guided_search
from .ranking import ranking_agreement, rung_table
from .report import Report, check_out_dir
from .sensitivity import sensitivity_indices
from .tidy import Location, final_rows, load_experiment
from .variants import BASE_NAME, label_option_variants
from .verdicts import SIGNIFICANCE, effect_verdict, sensitivity_verdicts

log = logging.getLogger(__name__)

# the metric-agreement figure: every metric but near-duplicates of another one
CORRELATED_METRICS = tuple(m for m in EVAL_KEYS if m not in ("recon_mse", "dci_informativeness_train", "cluster_nmi", "cluster_ari"))
HEADLINE_INDICES = ("range_rel", "weight_share", "main_effect", "total_effect", "robust_fraction", "tunability")


def _metrics(tidy: pd.DataFrame, requested: list[str] | None, spec_metrics: list[str]) -> list[str]:
    if requested:
        missing = [m for m in requested if m not in tidy.columns]
        if missing:
            raise ValueError(f"metric(s) {missing} are not in the experiments' results")
        return requested
    ordered = list(dict.fromkeys([*spec_metrics, *REPORTED]))
    return [m for m in ordered if m in tidy.columns and tidy[m].notna().any()]


def headline_table(indices: pd.DataFrame) -> pd.DataFrame:
    """One row per method x weighting x weight x metric: the headline indices as 'value [low, high]'."""
    rows = indices[indices["index"].isin(HEADLINE_INDICES)]
    cells = rows.assign(cell=[(f"{v:.3g} [{lo:.3g}, {hi:.3g}]" if pd.notna(lo) and pd.notna(hi) else f"{v:.3g}") if pd.notna(v) else ""
                              for v, lo, hi in zip(rows["value"], rows["ci_low"], rows["ci_high"])])
    table = cells.pivot_table(index=["method", "weighting", "weight", "metric", "budget"], columns="index", values="cell", aggfunc="first").reset_index()
    diverged = indices[indices["index"] == "divergence_rate"].groupby(["method", "weighting", "weight", "metric"])["value"].max().rename("max divergence rate")
    table = table.merge(diverged.reset_index(), on=["method", "weighting", "weight", "metric"], how="left")
    keys = ["method", "weighting", "weight", "metric", "budget"]
    tested = indices[indices["index"] == "no_effect_p"].set_index(keys)["value"]
    table["verdict"] = [effect_verdict(tested.get(tuple(key), float("nan"))) for key in table[keys].itertuples(index=False)]
    shown = [i for i in HEADLINE_INDICES if i in table.columns]
    table = table[table[shown].fillna("").ne("").any(axis=1)]  # weights the study did not vary
    return table[[*keys, "verdict", *shown, "max divergence rate"]]


def _trial_pictures(report: Report, final: pd.DataFrame, locations: dict[str, Location], metric: str) -> None:
    """The best and worst finished trial of each method by `metric` (from the final rows): their reconstructions and traversals."""
    final = final[(final["status"] == "finished") & final[metric].notna()]
    if final.empty:
        return
    better_high = metric_mode(metric) == "max"
    report.heading("What the scores look like", level=2)
    report.text(
        f"For each method, the best and the worst finished trial by {metric}: top, evaluation images over their "
        "reconstructions; bottom, each code dimension swept from its 5th to its 95th percentile (one row per dimension)."
    )
    for method, trials in final.groupby("config/method"):
        ordered = trials.sort_values(metric, ascending=not better_high)
        for label, row in (("best", ordered.iloc[0]), ("worst", ordered.iloc[-1])):
            location = locations.get(row["experiment"])
            if location is None:
                continue
            weights = ", ".join(f"{c.removeprefix('config/weights/')}={row[c]:.3g}" for c in trials.columns if c.startswith("config/weights/") and pd.notna(row[c]))
            for picture in ("reconstructions", "traversals"):
                path = posixpath.join(location.path, row["trial_dir"], f"{picture}.png")
                try:
                    data = location.filesystem.open_input_stream(path).read()
                except OSError:
                    continue
                report.figure(f"{method}-{label}-{picture}", data, pixels=True,
                              caption=f"{method}, {label} trial by {metric} ({row[metric]:.3g}; {row['config/weighting']}, {weights}, seed {row['config/seed']}): {picture}")


def _curves(report: Report, tidy: pd.DataFrame, chosen: list[str]) -> None:
    """Per method, the response curves of the first four metrics, and a heat map where two weights vary."""
    values = {metric: trial_values(tidy, metric) for metric in chosen[:4]}
    for method in sorted(tidy["config/method"].unique()):
        report.heading(f"{method}")
        for metric in chosen[:4]:
            rows = values[metric][values[metric]["method"] == method].rename(columns={"method": "config/method", "weighting": "config/weighting", "value": metric})
            if rows[metric].notna().sum() == 0:
                continue
            report.figure(f"{method}-{metric}-curves", figures.sensitivity_curves(rows, metric, method),
                          caption=f"{method}: {label_of(metric)} at epoch {int(rows['budget'].iloc[0])} against each weight (log axis); line: seed mean, band: seed range")
        of_method = tidy[tidy["config/method"] == method]
        varied = [c for c in weight_columns(of_method, present=True) if of_method[c].nunique() > 1]
        if len(varied) >= 2:
            metric = chosen[0]
            rows = values[metric][values[metric]["method"] == method].rename(columns={"method": "config/method", "value": metric})
            report.figure(f"{method}-{metric}-heatmap", figures.weight_pair_heatmap(rows, metric, method, varied[0], varied[1]),
                          caption=f"{method}: seed-mean {label_of(metric)} over {varied[0]} x {varied[1]}")


def _defaults_per_variant(tidy: pd.DataFrame, defaults: dict[str, dict[str, float]] | None) -> dict | None:
    """A method's default weights hold for each of its option variants as well."""
    if not defaults:
        return defaults
    pairs = tidy[["config/method", BASE_NAME]].drop_duplicates().itertuples(index=False)
    return defaults | {label: defaults[base] for label, base in pairs if label not in defaults and isinstance(defaults.get(base), dict)}


def build_report(paths: list[str], out: str | Path, metrics: list[str] | None = None,
                 defaults: dict[str, dict[str, float]] | None = None) -> dict[str, Path | list[str]]:
    """Load the experiments, compute every sensitivity index, draw the figures, write the report into `out`.

    `defaults`: each method's default weights ({method: {weight: value}}), for tunability.
    """
    check_out_dir(out)
    tidy = label_option_variants(load_experiment(*paths))  # option variants of a method analysed apart
    defaults = _defaults_per_variant(tidy, defaults)
    names = [Path(str(p).rstrip("/")).name for p in paths]
    metadata = {name: experiment_metadata(str(p)) for name, p in zip(names, paths)}
    locations = {name: Location.parse(p) for name, p in zip(names, paths)}
    spec_metrics = [m["spec"]["metric"] for m in metadata.values() if "spec" in m and "metric" in m["spec"]]
    chosen = _metrics(tidy, metrics, spec_metrics)
    if not chosen:
        raise ValueError("the experiments report none of the metrics a sensitivity report uses")
    guided = guided_search(metadata)

    all_indices, all_importance, all_agreement, all_rungs = [], [], [], []
    final = final_rows(tidy)
    early_stopped = (final["status"] == "early_stopped").any()
    for metric in chosen:
        all_indices.append(sensitivity_indices(tidy, metric, defaults=defaults))
        all_importance.append(weight_importance(tidy, metric, guided=guided))
        all_agreement.append(ranking_agreement(tidy, metric, budgets=evaluated_budgets(tidy, metric)))
        if early_stopped:
            all_rungs.append(rung_table(tidy, metric))
    indices = pd.concat(all_indices, ignore_index=True)
    importance = pd.concat(all_importance, ignore_index=True)
    agreement = pd.concat(all_agreement, ignore_index=True)

    report = Report("Sensitivity report")
    answer = sensitivity_verdicts(indices, chosen[0]) or [f"No weight was varied among trials with a value of {chosen[0]}: nothing to compare."]
    report.verdict(f"How much each loss weight moves {label_of(chosen[0])}", answer)
    report.text(
        "How much each method's results depend on its loss weights. Indices are computed per method, weighting mode, "
        "weight and metric at the budget (epoch) every compared trial reached, with 95% intervals over seeds; the verdict "
        f"is a permutation test of 'this weight has no effect' at the {SIGNIFICANCE:g} level. Other metrics are in the tables below."
    )
    if guided:
        report.note("Some trials were chosen by a guided sampler (Optuna TPE): it concentrates trials where the metric is good, "
                    "so spreads, importances and robust fractions from them are biased. Space-filling designs (grid, quasi_random) "
                    "are the sound basis for sensitivity.")
    _curves(report, tidy, chosen)

    report.heading("Sensitivity at a glance")
    report.text("Each cell: the index and its 95% interval (BCa bootstrap over seeds; main and total effects are Sobol' indices of "
                "a quadratic surface in the log weights, also bootstrapped over seeds); 'budget' is the epoch the values are taken at. Verdict: a permutation test of 'this weight has no "
                f"effect' at the {SIGNIFICANCE:g} level; 'no detectable effect' is what the data support, not proof of none. Where several "
                "weights vary in a space-filling design, range and weight share are joint over all weights (every setting has its own "
                "value of each); main and total effects are each weight's own.")
    report.table("headline", headline_table(indices), caption="headline indices per method, mode, weight and metric", show_rows=80)
    report.table("indices", indices, caption="every index, per weight value where it applies", show_rows=0)
    add_overview(report, tidy, metadata)

    report.heading("Which weight matters most")
    if guided:
        report.note("These importances come from TPE-chosen trials: biased (see above).")
    report.table("importance", importance, caption="importance of each weight (fANOVA and PED-ANOVA on a study rebuilt from the trials)")
    if importance["importance"].notna().any():
        report.figure("importance", figures.importance_bars(importance[importance["metric"] == chosen[0]]), caption=f"weight importance for {chosen[0]}")

    report.heading("Do early budgets predict the final ranking?")
    report.text("Spearman correlation between the trials' ranking at each evaluated epoch and at the final budget, per "
                "method and mode: early stopping (ASHA) is only sound for a metric whose early ranking holds.")
    report.table("ranking-agreement", agreement, caption="ranking agreement between budgets")
    if all_rungs:
        report.table("rungs", pd.concat(all_rungs, ignore_index=True), caption="indices at each rung budget (only trials that reached it)", show_rows=0)

    report.heading("Do the metrics agree?")
    finished = final[final["status"] == "finished"]
    if len(finished) > 2:
        report.figure("metric-correlation", figures.metric_correlation(finished, list(CORRELATED_METRICS)), caption="Spearman correlation between metrics over the finished trials")
    _trial_pictures(report, final, locations, chosen[0])

    report.heading("What the indices mean")
    report.definitions({**INDEX_DEFINITIONS, **{k: v for k, v in IMPORTANCE_DEFINITIONS.items() if k not in INDEX_DEFINITIONS}})
    return report.write(out)
