"""Tune's OptunaSearch, told the truth about trials a scheduler stopped early.

Tune's searcher reports every trial that ends with a metric value as COMPLETE, so a trial ASHA
stopped after its first epoch enters Optuna's study as if its first-epoch value were final, and
TPE and the importance evaluators learn from partial budgets as from full ones (ray issue 15283).
Here a trial that ended before its configured epochs without an error is told PRUNED (Optuna then
keeps its last intermediate value, which Tune already reported step by step), and a diverged one
FAIL. This subclass reaches into OptunaSearch's bookkeeping (`_ot_trials`, `_ot_study`,
`_completed_trials`, Ray 2.60): the searcher has no public hook for the trial's budget.
"""

from __future__ import annotations

import logging

from optuna.trial import TrialState
from ray.tune.search.optuna import OptunaSearch

log = logging.getLogger(__name__)


class BudgetAwareOptunaSearch(OptunaSearch):
    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        state = None
        if result and not error and trial_id in self._ot_trials and trial_id not in self._completed_trials:
            epochs = (result.get("config") or {}).get("epochs")
            if result.get("diverged"):
                state = TrialState.FAIL
            elif epochs is not None and result.get("training_iteration", 0) < int(epochs):
                state = TrialState.PRUNED
        if state is None:
            super().on_trial_complete(trial_id, result, error)
            return
        try:
            self._ot_study.tell(self._ot_trials[trial_id], state=state)
        except Exception as exc:  # as OptunaSearch does: a refused tell must not stop the sweep
            log.warning(exc)
        self._completed_trials.add(trial_id)
