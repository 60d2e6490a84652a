"""A Tune searcher that hands out a fixed list of trial configs, in order, then finishes.

Space-filling designs (grid, quasi-random) are planned in full before the run
(`study.design.trial_configs`); each trial's config may have its own keys (a method's
options), which Tune's variant generator cannot express without mixing them. The searcher's
position is saved with the experiment, so a resumed study does not hand a config out twice.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

from ray.tune.search import Searcher


class PlannedSearch(Searcher):
    def __init__(self, configs: list[dict[str, Any]], metric: str | None = None, mode: str | None = None) -> None:
        super().__init__(metric=metric, mode=mode)
        self.configs = configs
        self.handed_out = 0

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.handed_out >= len(self.configs):
            return Searcher.FINISHED
        config = copy.deepcopy(self.configs[self.handed_out])
        self.handed_out += 1
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        """Nothing to learn: the plan does not depend on results."""

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump({"configs": self.configs, "handed_out": self.handed_out}, handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            state = pickle.load(handle)
        self.configs, self.handed_out = state["configs"], state["handed_out"]
