"""The vocabulary every analysis index stands on, written once.

- `frame`: the tidy frame's columns, trial statuses, weighting modes, weight columns and their
  rounding, metric directions (from `trainables.metric_registry`) and the checks that name a bad frame;
- `budgets`: the epoch at which trials are compared, and each trial's value there;
- `resampling`: seed bootstrap intervals, Wilson intervals and permutation p-values (scipy.stats).

Index modules (`analysis.sensitivity`, `ranking`, `importance`, `adaptive`, `tradeoff`,
`trajectories`, `calibration`) import from here and never from each other's internals.
"""
