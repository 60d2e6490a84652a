"""What the trials mean: load results into a tidy table, compute indices, compare, plot (no torch models).

The Python API for notebooks (README, "Python API"): every name below is importable from
`analysis` directly. Names load on first use (PEP 562), so `study` commands that only need the
loader do not pay for scipy's resampling, Optuna's evaluators or seaborn.
"""

from __future__ import annotations

import importlib

_API = {
    # load
    "load_experiment": "tidy", "final_rows": "tidy", "ExperimentError": "tidy", "summarize": "summary",
    # indices
    "sensitivity_indices": "sensitivity", "trial_values": "core.budgets", "rung_table": "ranking",
    "ranking_agreement": "ranking", "weight_importance": "importance",
    # fixed vs adaptive
    "compare_fixed_adaptive": "adaptive", "calibrate": "calibration", "pareto_front": "tradeoff",
    # words and pictures
    "sensitivity_verdicts": "verdicts", "comparison_verdict": "verdicts", "figures": None,
    "build_report": "study_report", "build_comparison": "compare_report",
    "curve_table": "learning_curves", "curve_summary": "learning_curves", "learning_curves_figure": "learning_curves",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}; the API: {', '.join(__all__)}")
    module = importlib.import_module(f".{_API[name] or name}", __name__)
    return module if _API[name] is None else getattr(module, name)
