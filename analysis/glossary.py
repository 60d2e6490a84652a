"""What every reported column and index means, in one sentence each: the reports' glossaries.

`INDEX_DEFINITIONS` covers the sensitivity tables (`analysis.sensitivity`, `analysis.ranking`),
`COMPARISON_DEFINITIONS` the fixed-vs-adaptive comparison (`analysis.adaptive`, `tradeoff`,
`trajectories`). Metric names take their meaning from `trainables.metric_registry`.
"""

from __future__ import annotations

from trainables.metric_registry import METRICS

INDEX_DEFINITIONS: dict[str, str] = {
    # columns
    "method": "The representation-learning method the trials trained.",
    "weighting": "How the loss weights were handled during training (fixed, adaptive or annealed); modes are analysed separately.",
    "weight": "The loss weight whose sensitivity the row measures, marginal over the method's other weights.",
    "metric": "The evaluation metric the index is computed from.",
    "mode": "Whether larger ('max') or smaller ('min') values of the metric are better.",
    "budget": "The training epoch at which the trials were compared; only trials that reached it (or diverged by it) count.",
    "index": "The name of the sensitivity index the row reports.",
    "weight_value": "The weight value a per-value row refers to; for 'best' the value achieving it, for 'tunability' the grid value used as the default.",
    "value": "The index computed from all seeds.",
    "ci_low": "Lower end of the BCa bootstrap interval over seeds (resampled as blocks when every setting ran the same seeds); Wilson for divergence rates.",
    "ci_high": "Upper end of the BCa bootstrap interval over seeds (resampled as blocks when every setting ran the same seeds); Wilson for divergence rates.",
    "n_trials": "Trials behind the row, counting trials that diverged by the budget.",
    "n_diverged": "Trials behind the row that diverged by the budget; their metric is left out of the seed-means.",
    "n_seeds": "Distinct seeds with a finite metric value behind the row.",
    "n_values": "Distinct values of the weight behind the row.",
    "note": "What the reader must know about the row: exclusions, the default matched, why a value is NaN.",
    "final_budget": "The last epoch of the finished trials, whose ranking the earlier budgets are compared with.",
    "spearman": "Spearman rank correlation between the trials' metric at the budget and at the final budget.",
    "p_value": "Two-sided p-value of the Spearman correlation (scipy.stats.spearmanr).",
    # indices
    "seed_mean": "Mean of the metric over seeds at one weight value (marginal over the other weights).",
    "best": "Best seed-mean over the weight's values, in the metric's better direction.",
    "range": "Max minus min of the seed-means across the weight's values.",
    "iqr": "Interquartile range of the seed-means across the weight's values.",
    "range_rel": "The range divided by the absolute best seed-mean.",
    "iqr_rel": "The interquartile range divided by the absolute best seed-mean.",
    "weight_share": "Share of the metric's variance due to the weight's value, SS_weight / (SS_weight + SS_seed), seeds being replicates (eta-squared; partial when other weights vary).",
    "seed_share": "Share of the metric's variance due to seeds, 1 - weight_share.",
    "tunability": "Improvement of the best seed-mean over the seed-mean at the default weight value (>= 0, in the metric's better direction).",
    "robust_fraction": "Share of the weight's log-range lying nearer to a grid value whose seed-mean is within the tolerance of the best than to one that is not.",
    "divergence_rate": "Share of the trials at one weight value that diverged by the budget.",
    "no_effect_p": "p-value of a permutation test of 'the metric does not depend on this weight' (scipy.stats.permutation_test, within seed blocks); large: no detectable effect, which is not proof of none.",
    "main_effect": "First-order Sobol' index: share of the response surface's variance (a quadratic in the log weights fitted to seed-means) this weight explains alone; only where two or more weights vary.",
    "total_effect": "Total Sobol' index: share of the response surface's variance this weight explains with all its interactions; only where two or more weights vary.",
}


COMPARISON_DEFINITIONS: dict[str, str] = {
    # counts
    "trials": "Number of trials of this weighting mode in the frame for the method, whatever their status.",
    "included": "Trials analysed: finished, not diverged, a finite final metric, at a starting weight and seed both fixed and adaptive runs have.",
    "excluded_status": "Trials left out because they did not finish (early-stopped, unfinished, error or diverged).",
    "excluded_missing_metric": "Finished trials left out because the metric is NaN or infinite at their final epoch.",
    "excluded_not_shared": "Finished trials left out because their starting weight or seed is missing from the fixed or the adaptive runs.",
    "starts": "Number of distinct starting weights among the analysed trials of this mode.",
    "seeds": "Number of distinct seeds among the analysed trials of this mode.",
    # spread across starting weights
    "start_mean": "Mean over seeds of the final metric at one starting weight (the per-start seed-mean).",
    "start_means_std": "Standard deviation (ddof=1) across starting weights of the per-start seed-means: how much the final metric moves with the starting weight.",
    "start_means_range": "Largest minus smallest per-start seed-mean of the final metric.",
    "pooled_std": "Standard deviation (ddof=1) of the final metric over all analysed trials of the mode, starts and seeds pooled.",
    "pooled_range": "Largest minus smallest final metric over all analysed trials of the mode.",
    "pooled_mean": "Mean of the final metric over all analysed trials of the mode.",
    "best_start": "Starting weight whose per-start seed-mean is best (highest for a maximised metric, lowest for a minimised one).",
    "best_start_mean": "The per-start seed-mean at the best starting weight.",
    # equal-spread tests
    "brown_forsythe_statistic": "Brown-Forsythe statistic (Levene's test centred on the median) comparing the final-metric values of all analysed trials of the mode with those of fixed weighting.",
    "brown_forsythe_p": "p-value of the Brown-Forsythe test of equal spread of the final metric (all analysed trials, starts and seeds pooled) between the mode and fixed weighting.",
    "levene_statistic": "Classic Levene statistic (centred on the mean) on the same samples as the Brown-Forsythe test.",
    "levene_p": "p-value of the classic Levene test of equal spread on the same samples as the Brown-Forsythe test.",
    # bootstrap ratio of spreads
    "spread_ratio": "Spread across starting weights of the mode divided by that of fixed weighting (std of per-start seed-means); below 1 means less sensitive to the starting weight.",
    "spread_ratio_ci_low": "Lower end of the BCa bootstrap interval of the spread ratio (scipy.stats.bootstrap; seeds resampled within each start and mode).",
    "spread_ratio_ci_high": "Upper end of the BCa bootstrap interval of the spread ratio (scipy.stats.bootstrap; seeds resampled within each start and mode).",
    "interval": "How the spread ratio's interval was made, and any care it needed (percentile where BCa is undefined, widened to contain the estimate).",
    # level against fixed weighting (analysis.level)
    "reference_start": "The best fixed starting weight (best per-start seed-mean of the final metric), chosen on the same seeds, so the difference leans in fixed weighting's favour; empty for all fixed starts.",
    "n": "Trials of the compared mode in a test, all its starts and seeds pooled.",
    "n_reference": "Fixed trials in a test: every analysed fixed trial, or in the level comparison the best start's seeds.",
    "mean": "Mean final metric over the controlled mode's trials, all starts and seeds pooled.",
    "reference_mean": "Mean final metric of the reference fixed trials (the best start's seeds, or all fixed trials).",
    "difference": "Controlled mode's mean minus the reference's mean of the final metric.",
    "ci_low": "Lower end of the row's 95% interval: BCa of the spread ratio in the other-metrics table, Welch's t (scipy.stats.ttest_ind, unequal variances) of the difference in the level comparison.",
    "ci_high": "Upper end of the row's 95% interval: BCa of the spread ratio in the other-metrics table, Welch's t (scipy.stats.ttest_ind, unequal variances) of the difference in the level comparison.",
    "p_value": "p-value of the row's test: Brown-Forsythe or Levene of equal spread, or Welch's t of equal means in the level comparison.",
    "better": "Which side's final metric is better at the 5% level (the controlled mode, or fixed), or no detectable difference.",
    # weight trajectories
    "weight": "The driven loss weight's value at the end of the epoch.",
    "log_spread_start": "Standard deviation across starting weights of the natural log of the configured starting weight.",
    "log_spread_first_epoch": "Standard deviation across starting weights of the per-start seed-mean of log weight at each trial's first reported epoch.",
    "log_spread_last_epoch": "Standard deviation across starting weights of the per-start seed-mean of log weight at each trial's last epoch.",
    "convergence_ratio": "Log-weight spread across starts at the last epoch divided by that of the starting weights; near 0 means the starts converged to one value, 1 means they stayed apart.",
    "convergence_ratio_epoch1": "Log-weight spread across starts at the last epoch divided by that at the first epoch.",
    "final_weight_geomean": "Geometric mean of the weight at the last epoch over the analysed trials of the mode.",
    "final_weight_min": "Smallest weight at the last epoch over the analysed trials of the mode.",
    "final_weight_max": "Largest weight at the last epoch over the analysed trials of the mode.",
    # trade-off
    "pareto_front": "Trials not dominated by any other analysed trial of any mode in the reconstruction-vs-disentanglement plane (at least as good on both, strictly better on one).",
    "trials_with_both": "Analysed trials of the mode with finite values of both trade-off metrics.",
    "on_front": "Trials of the mode on the joint Pareto front of all modes.",
    "share_on_front": "Share of the mode's trials (with both trade-off metrics) that lie on the joint Pareto front.",
    "hypervolume": "Area dominated by the mode's own Pareto front up to a reference point made of the worst value of each trade-off metric over all modes' analysed trials (in the metrics' units; larger is better).",
}


# column headers as a reader sees them in a report (the CSV files keep the short names)
HEADERS: dict[str, str] = {
    "weighting": "weighting", "weight_value": "weight value", "ci_low": "95% low", "ci_high": "95% high",
    "n_trials": "trials", "n_diverged": "diverged", "n_seeds": "seeds", "n_values": "weight values",
    "range_rel": "relative range", "iqr_rel": "relative IQR", "iqr": "IQR", "weight_share": "weight's share of variance",
    "seed_share": "seeds' share of variance", "robust_fraction": "robust fraction", "main_effect": "main effect",
    "total_effect": "total effect", "no_effect_p": "p (no effect)", "final_budget": "final budget", "p_value": "p",
    "spearman": "Spearman rho", "excluded_status": "left out: status", "excluded_missing_metric": "left out: no metric",
    "excluded_not_shared": "left out: start or seed not shared", "start_mean": "seed-mean", "start_means_std": "std of start means",
    "start_means_range": "range of start means", "pooled_std": "pooled std", "pooled_range": "pooled range", "pooled_mean": "pooled mean",
    "best_start": "best start", "best_start_mean": "best start's mean", "spread_ratio": "spread ratio",
    "spread_ratio_ci_low": "95% low", "spread_ratio_ci_high": "95% high", "brown_forsythe_p": "Brown-Forsythe p",
    "log_spread_start": "log spread at start", "log_spread_first_epoch": "log spread, first epoch",
    "log_spread_last_epoch": "log spread, last epoch", "convergence_ratio": "convergence ratio",
    "convergence_ratio_epoch1": "convergence ratio vs epoch 1", "final_weight_geomean": "final weight (geometric mean)",
    "final_weight_min": "final weight min", "final_weight_max": "final weight max", "trials_with_both": "trials with both metrics",
    "on_front": "on the front", "share_on_front": "share on the front", "reference_x": "reference x", "reference_y": "reference y",
    "in_band_mean": "time in band (mean)", "in_band_min": "time in band (min)", "in_band_max": "time in band (max)",
    "accuracy_mean": "accuracy (mean)", "accuracy_min": "accuracy (min)", "accuracy_max": "accuracy (max)",
    "accuracy_range": "accuracy range", "max divergence rate": "max divergence rate",
}


def header(column: object) -> str:
    """A column's header for readers: the glossary's words, a metric's label, else the name with spaces."""
    name = str(column)
    if name in HEADERS:
        return HEADERS[name]
    if name in METRICS:
        return METRICS[name].label
    return name.removeprefix("config/weights/").removeprefix("config/").replace("_", " ")
