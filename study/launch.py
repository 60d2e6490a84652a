"""Build a Tune experiment from a validated spec, run it, and write the tidy table beside it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search.optuna import OptunaSearch

from analysis import load_experiment, summarize
from trainables.datasets import Splits, load_dataset
from trainables.methods import METHODS
from trainables.trainable import StudyTrainable

from .design import OptunaSpace, trial_configs
from .planned_search import PlannedSearch
from .loopback import LOOPBACK_ONLY
from .spec import SpecError, StudySpec

log = logging.getLogger(__name__)

DEFAULT_STORAGE = "study_results"
STORAGE_VARIABLE = "STUDY_STORAGE_PATH"
SPEC_FILE = "study_spec.json"  # the validated spec, beside Tune's files: reports read it (JSON, never pickles)
RUN_FILE = "study_run.json"  # provenance: command, commit, machine, start, duration


def provenance() -> dict:
    """What a result needs to be traced: the command, the code's commit, the machine."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    import torch

    return {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "commit": commit or "unknown",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ray": ray.__version__,
        "cuda": torch.cuda.is_available(),
    }


def storage_root(spec: StudySpec, override: str | None) -> Path:
    """Where results go: --storage-path, else the spec's, else $STUDY_STORAGE_PATH, else ./study_results."""
    chosen = override or spec.storage_path or os.environ.get(STORAGE_VARIABLE) or DEFAULT_STORAGE
    return Path(chosen).expanduser().resolve()


def init_ray(address: str | None = None, **options) -> None:
    """Connect to the cluster at `address`, or start a local Ray.

    A local Ray listens on 127.0.0.1 only if `LOOPBACK_ONLY` was set to 0 before `ray` was first
    imported (Ray reads it at import): `study run` does that, see `study.loopback`.
    """
    if address is None and os.environ.get(LOOPBACK_ONLY) != "0":
        log.warning("local Ray will listen on every network interface: set %s=0 before importing ray to keep it on 127.0.0.1", LOOPBACK_ONLY)
    ray.init(address=address, include_dashboard=False, configure_logging=False, **options)


def check_methods(spec: StudySpec, splits: Splits) -> None:
    """Build every method entry once on the CPU with the data's image shape, so that an option value
    the method refuses (1 cluster, images it cannot take, an unknown optimiser) fails here, named,
    before Ray starts, rather than in every trial."""
    import torch

    for index, entry in enumerate(spec.methods):
        cls = METHODS[entry.name]
        try:
            cls(splits.train.image_shape, torch.Generator(), **cls.resolve_options(entry.options))
        except (ValueError, TypeError, RuntimeError) as error:
            raise SpecError(f"methods.{index} ({entry.name}) cannot be built for {spec.dataset.name} images of shape {splits.train.image_shape}: {error}") from error


def load_data(spec: StudySpec) -> Splits:
    """The dataset, loaded once in the driver; Tune ships it to workers through the object store."""
    return load_dataset(spec.dataset.name, **spec.dataset.options)


def build_tuner(spec: StudySpec, splits: Splits, storage: Path, name: str) -> tune.Tuner:
    trainable = tune.with_resources(
        tune.with_parameters(StudyTrainable, splits=splits),
        {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu},
    )
    if spec.search.kind == "optuna":
        search = OptunaSearch(space=OptunaSpace(spec), metric=spec.metric, mode=spec.mode, seed=spec.search.seed)
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
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(storage),
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


def run_study(
    spec: StudySpec, address: str | None = None, storage_path: str | None = None, splits: Splits | None = None
) -> tuple[Path, pd.DataFrame]:
    """Run the study on local Ray (or the cluster at `address`); return the experiment path and tidy table.

    `splits`: the spec's dataset if the caller loaded it already (the CLI does, to fail early).
    """
    splits = splits if splits is not None else load_data(spec)
    storage = storage_root(spec, storage_path)
    storage.mkdir(parents=True, exist_ok=True)
    name = f"{spec.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic table, with the columns chosen above
    experiment = storage / name
    experiment.mkdir(parents=True)
    (experiment / SPEC_FILE).write_text(json.dumps(spec.model_dump(mode="json"), indent=1))
    run_info = provenance() | {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    started = time.perf_counter()
    started_here = not ray.is_initialized()
    if started_here:
        init_ray(address, log_to_driver=True)
    try:
        tuner = build_tuner(spec, splits, storage, name)
        tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
        run_info["duration_s"] = round(time.perf_counter() - started, 1)
        (experiment / RUN_FILE).write_text(json.dumps(run_info, indent=1))
    tidy = load_experiment(experiment)
    tidy.to_csv(experiment / "tidy.csv", index=False)
    summarize(tidy).to_csv(experiment / "summary.csv", index=False)
    return experiment, tidy
