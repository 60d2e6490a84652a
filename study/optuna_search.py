"""Tune's OptunaSearch, told the truth about trials a scheduler stopped early.

Tune's searcher reports every trial that ends with a metric value as COMPLETE, so a trial ASHA
stopped after its first epoch enters Optuna's study as if its first-epoch value were final, and
TPE and the importance evaluators learn from partial budgets as from full ones (ray issue 15283).
Here a trial that ended before its configured epochs without an error is told PRUNED, with its
last value reported as its last intermediate value (Optuna keeps that as the pruned trial's value),
and a diverged one FAIL. This subclass reaches into OptunaSearch's bookkeeping (`_ot_trials`, `_ot_study`,
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
            # Tune passes the last result flattened ("config/epochs"); accept the nested form too
            epochs = result.get("config/epochs", (result.get("config") or {}).get("epochs"))
            if result.get("diverged"):
                state = TrialState.FAIL
            elif epochs is not None and result.get("training_iteration", 0) < int(epochs):
                state = TrialState.PRUNED
        if state is None:
            super().on_trial_complete(trial_id, result, error)
            return
        try:
            ot_trial = self._ot_trials[trial_id]
            value = result.get(self.metric) if isinstance(self.metric, str) else None
            if state == TrialState.PRUNED and value is not None:
                # Tune hands the last result to on_trial_complete only, never to on_trial_result: report it
                # as the last intermediate value, which Optuna then keeps as the pruned trial's value
                ot_trial.report(value, result.get("training_iteration", 0))
            self._ot_study.tell(ot_trial, state=state)
        except Exception as exc:  # as OptunaSearch does: a refused tell must not stop the sweep
            log.warning(exc)
        self._completed_trials.add(trial_id)
