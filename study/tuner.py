"""The Tune experiment a validated spec describes: trainable, searcher, scheduler, reporter, run settings."""

from __future__ import annotations

import optuna
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from trainables.datasets import Splits
from trainables.methods import METHODS
from trainables.trainable import StudyTrainable

from .design import OptunaSpace, trial_configs
from .optuna_search import BudgetAwareOptunaSearch
from .planned_search import PlannedSearch
from .spec import StudySpec
from .trial_names import TrialNamer


def make_trainable(spec: StudySpec, splits: Splits):
    """The trainable with the dataset attached (through Ray's object store) and each trial's resources."""
    return tune.with_resources(
        tune.with_parameters(StudyTrainable, splits=splits),
        {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu},
    )


def build_tuner(spec: StudySpec, splits: Splits, storage: str, name: str, optuna_url: str | None = None) -> tune.Tuner:
    """A new Tuner for the experiment `name` under `storage`; trial folders named by study.trial_names."""
    trainable = make_trainable(spec, splits)
    if spec.search.kind == "optuna":
        search = BudgetAwareOptunaSearch(
            space=OptunaSpace(spec), metric=spec.metric, mode=spec.mode, seed=spec.search.seed,
            study_name=name, storage=optuna.storages.RDBStorage(url=optuna_url) if optuna_url else None,
        )
        num_samples = spec.search.samples
    else:
        configs = trial_configs(spec)
        search = PlannedSearch(configs, metric=spec.metric, mode=spec.mode)
        num_samples = len(configs)
    scheduler = None
    if spec.scheduler.kind == "asha":
        scheduler = ASHAScheduler(
            time_attr="training_iteration",
            max_t=spec.epochs,
            grace_period=spec.scheduler.grace_period,
            reduction_factor=spec.scheduler.reduction_factor,
        )
    # a column must exist in every trial's config (the reporter looks each one up), so starting
    # weights are shown only when all methods share them; current weights are metrics anyway
    weight_sets = [{f"weights/{w.name}" for w in METHODS[entry.name].weights} for entry in spec.methods]
    weights = sorted(set.intersection(*weight_sets))
    reporter = tune.CLIReporter(
        parameter_columns=["method", "weighting", *weights, "seed"],
        metric_columns=sorted({spec.metric, "recon_bce", "mig", "cluster_acc"}) + ["training_iteration"],
        max_report_frequency=20,
        sort_by_metric=False,
    )
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=search,
            scheduler=scheduler,
            metric=spec.metric,
            mode=spec.mode,
            num_samples=num_samples,
            max_concurrent_trials=spec.max_concurrent,
            reuse_actors=spec.reuse_actors,
            trial_dirname_creator=TrialNamer.for_spec(spec),
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=storage,
            checkpoint_config=tune.CheckpointConfig(
                checkpoint_frequency=spec.checkpoint_every, checkpoint_at_end=True, num_to_keep=1
            ),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            # the trials' pictures (trainables.pictures) travel to storage with their checkpoints
            sync_config=tune.SyncConfig(sync_artifacts=True),
            progress_reporter=reporter,
            verbose=1,
        ),
    )
