"""Run (or resume) a study: checks before Ray starts, the experiment's first files, the fit, the tidy table beside it."""

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

from analysis import load_experiment, summarize
from analysis.summary import headline_metrics
from analysis.tidy import ExperimentError
from trainables.datasets import Splits, load_dataset
from trainables.methods import METHODS

from .experiment_lock import DRIVER_FILE, mark_driver, refuse_live_writer
from .loopback import LOOPBACK_ONLY
from .spec import SpecError, StudySpec, parse_spec
from .storage import DEFAULT_STORAGE, STORAGE_VARIABLE, ExperimentFiles, optuna_storage_url, shown_url, storage_root
from .tuner import build_tuner, make_trainable
from .weight_check import check_spec_weights

log = logging.getLogger(__name__)

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


def choose_storage(spec: StudySpec, override: str | None) -> str:
    """Where results go: --storage-path, else the spec's, else $STUDY_STORAGE_PATH, else ./study_results."""
    return storage_root(override or spec.storage_path or os.environ.get(STORAGE_VARIABLE) or DEFAULT_STORAGE)


def init_ray(address: str | None = None, **options) -> None:
    """Connect to the cluster at `address`, or start a new local Ray.

    A local Ray listens on 127.0.0.1 only if `LOOPBACK_ONLY` was set to 0 before `ray` was first
    imported (Ray reads it at import): `study run` does that, see `study.loopback`.
    """
    if address is None and os.environ.get(LOOPBACK_ONLY) != "0":
        log.warning("local Ray will listen on every network interface: set %s=0 before importing ray to keep it on 127.0.0.1", LOOPBACK_ONLY)
    # "local": always a new instance of our own; without it ray.init attaches to whatever cluster
    # `ray start` last left on this machine (/tmp/ray/ray_current_cluster), even a dead one
    ray.init(address=address or "local", include_dashboard=False, configure_logging=False, **options)
    if address is None:  # our own instance: nothing of it may outlive this driver
        from .ray_watchdog import start

        start()


def check_methods(spec: StudySpec, splits: Splits) -> None:
    """Build every method entry once on the CPU with the data's image shape, so that an option value
    the method refuses (1 cluster, images it cannot take, an unknown optimiser) fails here, named,
    before Ray starts, rather than in every trial."""
    import torch

    built_methods = []
    for index, entry in enumerate(spec.methods):
        cls = METHODS[entry.name]
        try:
            built = cls(splits.train.image_shape, torch.Generator(), **cls.resolve_options(entry.options))
        except (ValueError, TypeError, RuntimeError) as error:
            raise SpecError(f"methods.{index} ({entry.name}) cannot be built for {spec.dataset.name} images of shape {splits.train.image_shape}: {error}") from error
        per_step = spec.batch_size * built.batches_per_step
        if per_step > len(splits.train):
            times = f" ({built.batches_per_step} batches a step)" if built.batches_per_step > 1 else ""
            raise SpecError(f"batch_size: a step of {entry.name} takes {per_step} images{times}, more than the "
                            f"{len(splits.train)} training images of {spec.dataset.name}; lower batch_size")
        built_methods.append(built)
    check_metric_reported(spec, splits, built_methods)
    check_spec_weights(spec, splits)  # and on swept weights that cannot move training


def check_metric_reported(spec: StudySpec, splits: Splits, methods: list) -> None:
    """A loss/..., disc_acc/..., weight/... or controller/... metric must be one a chosen method reports:
    found by one training step of each (freshly built, throw-away) method on a few training images;
    evaluation keys are always reported."""
    import torch

    from trainables.metric_registry import EVAL_KEYS

    if spec.metric in EVAL_KEYS:
        return
    reported: set[str] = set()
    for entry, method in zip(spec.methods, methods):
        cls = METHODS[entry.name]
        images = splits.train.images[: max(4, 4 * method.batches_per_step)]
        terms = method.train_step(images, {w.name: torch.tensor(w.default) for w in cls.weights})
        reported |= set(terms) | {f"weight/{w.name}" for w in cls.weights}
        if set(entry.weighting) - {"fixed"}:
            reported |= {f"controller/in_band/{name}" for name in cls.adaptive}
    if spec.metric not in reported:
        raise SpecError(f"metric {spec.metric!r} is not reported by {', '.join(e.name for e in spec.methods)}; "
                        f"they report {', '.join(sorted(reported))} and the evaluation keys")


def check_storage(spec: StudySpec, storage_path: str | None) -> None:
    """The results folder writable and the Optuna database reachable, before Ray starts."""
    from .storage import StorageError, check_optuna_storage, check_results_folder

    try:
        check_results_folder(choose_storage(spec, storage_path))
        if spec.search.kind == "optuna" and spec.search.storage:
            check_optuna_storage(spec.search.storage)
    except StorageError as error:
        raise SpecError(str(error)) from None


def load_data(spec: StudySpec) -> Splits:
    """The dataset, loaded once in the driver; Tune ships it to workers through the object store."""
    return load_dataset(spec.dataset.name, **spec.dataset.options)


def run_study(
    spec: StudySpec, address: str | None = None, storage_path: str | None = None, splits: Splits | None = None
) -> tuple[str, pd.DataFrame]:
    """Run the study on local Ray (or the cluster at `address`); return the experiment (path or URI) and tidy table.

    `splits`: the spec's dataset if the caller loaded it already (the CLI does, to fail early).
    Nothing is written before the cluster is known to fit a trial; an existing experiment is never overwritten.
    """
    splits = splits if splits is not None else load_data(spec)
    storage = choose_storage(spec, storage_path)
    name = f"{spec.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    files = new_experiment(storage, name)
    run_info = provenance() | {"started": _now()}
    clock = time.perf_counter()
    own_ray = start_ray(address)
    try:
        check_resources(spec)  # before anything is written
        optuna_url = write_first_files(spec, files, run_info)
        tuner = build_tuner(spec, splits, storage, name, optuna_url)
        mark_driver(files)
    except BaseException:
        stop_ray(own_ray)
        raise
    fit_and_release(tuner, files, own_ray, run_info, clock)
    return files.path, write_tables(files, spec.metric)


def resume_study(experiment: str, address: str | None = None) -> tuple[str, pd.DataFrame]:
    """Continue an interrupted study from its checkpoints: finished trials stay, the rest carry on."""
    files = ExperimentFiles.at(experiment)
    spec = read_saved_spec(files)
    if not tune.Tuner.can_restore(files.path):
        raise SpecError(f"{files.path} has no Tune experiment state to resume from")
    refuse_live_writer(files)  # before Ray starts
    splits = load_data(spec)
    run_info = provenance() | {"started": _now(), "resumed": True}
    clock = time.perf_counter()
    own_ray = start_ray(address)
    try:
        check_resources(spec)
        tuner = restore_tuner(files, spec, splits)
        mark_driver(files)
    except BaseException:
        stop_ray(own_ray)
        raise
    fit_and_release(tuner, files, own_ray, run_info, clock)
    return files.path, write_tables(files, spec.metric)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_experiment(storage: str, name: str) -> ExperimentFiles:
    """The new experiment's folder, refused if it exists (nothing is overwritten); nothing is written yet."""
    try:
        files = ExperimentFiles(storage, name)
    except ExperimentError as error:
        raise SpecError(f"storage path: {error}") from error
    if files.exists():
        raise SpecError(f"{files.path} exists already; nothing was overwritten")
    return files


def write_first_files(spec: StudySpec, files: ExperimentFiles, run_info: dict) -> str | None:
    """Create the experiment with its spec and provenance before any trial, so a killed driver leaves both;
    return the Optuna storage URL (None for a planned design)."""
    files.create()
    files.write_text(SPEC_FILE, json.dumps(spec.model_dump(mode="json"), indent=1))
    optuna_url = None
    if spec.search.kind == "optuna":
        optuna_url = optuna_storage_url(spec.search.storage, files, DEFAULT_STORAGE)
        run_info["optuna_storage"] = shown_url(optuna_url)
    files.write_text(RUN_FILE, json.dumps(run_info, indent=1))
    return optuna_url


def restore_tuner(files: ExperimentFiles, spec: StudySpec, splits: Splits) -> tune.Tuner:
    """Tune's tuner of an interrupted experiment, errored trials included."""
    try:
        return tune.Tuner.restore(files.path, trainable=make_trainable(spec, splits), resume_errored=True)
    except Exception as error:  # Tune's state unreadable: a damaged or foreign experiment
        raise SpecError(f"cannot resume {files.path}: Tune's experiment state is unreadable ({type(error).__name__}: {error})") from error


def start_ray(address: str | None) -> bool:
    """Ray for this run: the caller's if it is up already, else a new connection; True if we started it
    (then we shut it down, however the run ends)."""
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic table, with the columns build_tuner chooses
    if ray.is_initialized():
        return False
    init_ray(address, log_to_driver=True)
    return True


def stop_ray(own_ray: bool) -> None:
    if own_ray:
        ray.shutdown()


def fit_and_release(tuner: tune.Tuner, files: ExperimentFiles, own_ray: bool, run_info: dict, clock: float) -> None:
    """Run the trials; however that ends, stop Ray (if ours) before the driver mark goes, so that no trial of
    ours still writes once a resume may start, and record the run's provenance with its duration."""
    try:
        tuner.fit()
    finally:
        stop_ray(own_ray)
        files.remove(DRIVER_FILE)
        record_run(files, run_info, clock)


def record_run(files: ExperimentFiles, run_info: dict, clock: float) -> None:
    """Provenance with the duration: a first run's replaces what it wrote at the start, a resume's is appended."""
    run_info["duration_s"] = round(time.perf_counter() - clock, 1)
    previous = json.loads(files.read_text(RUN_FILE)) if run_info.get("resumed") and files.has(RUN_FILE) else None
    record = {**previous, "resumes": [*previous.get("resumes", []), run_info]} if previous else run_info
    files.write_text(RUN_FILE, json.dumps(record, indent=1))


def write_tables(files: ExperimentFiles, metric: str | None = None) -> pd.DataFrame:
    """The tidy table and its summary (the spec's `metric` first) beside the trials; return the tidy table."""
    tidy = load_experiment(files.path)
    files.write_text("tidy.csv", tidy.to_csv(index=False))
    files.write_text("summary.csv", summarize(tidy, headline_metrics(metric)).to_csv(index=False))
    return tidy


def check_resources(spec: StudySpec) -> None:
    """Refuse a trial that no node of the cluster can hold: Tune would wait for it forever."""
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    need_cpu, need_gpu = spec.resources.cpu, spec.resources.gpu
    if not any(r.get("CPU", 0) >= need_cpu and r.get("GPU", 0) >= need_gpu for r in nodes):
        largest = max(nodes, key=lambda r: (r.get("GPU", 0), r.get("CPU", 0)), default={})
        raise SpecError(
            f"resources: a trial asks for {need_cpu:g} CPU and {need_gpu:g} GPU, but no node of this Ray cluster has that "
            f"({len(nodes)} node(s); the largest: {largest.get('CPU', 0):g} CPU, {largest.get('GPU', 0):g} GPU)"
        )
    fits = sum(min(int(r.get("CPU", 0) // need_cpu) if need_cpu else 10**6, int(r.get("GPU", 0) // need_gpu) if need_gpu else 10**6) for r in nodes)
    if spec.max_concurrent is not None and spec.max_concurrent > fits:
        print(f"note: max_concurrent is {spec.max_concurrent}, but this Ray cluster holds {fits} trial(s) of "
              f"{need_cpu:g} CPU / {need_gpu:g} GPU at a time; {fits} will run at once", flush=True)


def read_saved_spec(files: ExperimentFiles) -> StudySpec:
    """The spec a `study run` saved in the experiment, validated again."""
    if not files.exists():
        raise SpecError(f"no experiment at {files.path}")
    if not files.has(SPEC_FILE):
        raise SpecError(f"{files.path} has no {SPEC_FILE}: not an experiment that `study run` started")
    try:
        return parse_spec(json.loads(files.read_text(SPEC_FILE)), source=f"{files.path}/{SPEC_FILE}")
    except json.JSONDecodeError as error:
        raise SpecError(f"{files.path}/{SPEC_FILE} is not readable JSON: {error}") from error
