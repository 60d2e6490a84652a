"""The `study` command: list methods, plan and run studies, report on them.

Exit codes: 0 done, 2 bad input (spec, data, arguments; nothing was started), 1 the sweep
itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import StudySpec

EXIT_BAD_INPUT = 2


def _methods(args: argparse.Namespace) -> int:
    from trainables.methods import METHODS

    for method in METHODS.values():
        print(f"{method.name}: {method.summary}")
        for weight in method.weights:
            driven = method.adaptive.get(weight.name)
            mode = f"adaptive from disc_acc/{driven}" if driven else "fixed only"
            print(
                f"  {weight.name:<10} default {weight.default:<8g} range [{weight.low:g}, {weight.high:g}] "
                f"{'log' if weight.log else 'linear'}  {mode}  ({weight.doc})"
            )
        options = ", ".join(f"{k}={v}" for k, v in method.option_defaults.items())
        print(f"  options: {options}")
        if args.check:
            _print_effects(method, args.check)
    return 0


def _print_effects(method, dataset: str) -> None:
    """The weight-effect check of one method with its default options, on one dataset's training images."""
    from trainables.datasets import load_dataset
    from trainables.weight_effect import check_weight_effects

    images = _probe_images(dataset, load_dataset)
    report = check_weight_effects(method, images)
    for line in report.lines():
        print(f"  check: {line}", flush=True)


_PROBE_CACHE: dict = {}


def _say_data_notes(spec, splits) -> None:
    """What the data does to a valid spec that a reader of its results should know: factors left out
    of the disentanglement metrics, an evaluation set smaller than asked, fewer categories than classes."""
    from trainables.evaluation import scored_factors
    from trainables.methods import METHODS

    evaluation = splits.test.subset(spec.dataset.eval_size, seed=0)
    if "evaluation" in splits.info:
        print(f"note: metrics are computed on {splits.info['evaluation']}", flush=True)
    if len(evaluation) < spec.dataset.eval_size:
        print(f"note: dataset.eval_size is {spec.dataset.eval_size}, but the test split has {len(evaluation)} images; "
              "every one of them is evaluated", flush=True)
    if evaluation.factors is not None:
        names = evaluation.factor_names or [str(k) for k in range(evaluation.factors.shape[1])]
        scored = scored_factors(evaluation)
        dropped = [name for k, name in enumerate(names) if k not in scored]
        if dropped:
            kept = [names[k] for k in scored]
            print(f"note: {', '.join(dropped)} take(s) one value in the evaluation set; disentanglement metrics score "
                  f"{', '.join(kept) if kept else 'no factor (they will be NaN)'}", flush=True)
    classes = evaluation.num_classes
    for entry in spec.methods:
        options = METHODS[entry.name].resolve_options(entry.options)
        categories = options.get("categories") or options.get("clusters")
        if classes and categories and categories < classes:
            print(f"note: {entry.name} has {categories} categories for {classes} classes: its one-to-one clustering "
                  f"accuracy cannot exceed the share of the {categories} largest classes", flush=True)


def _probe_images(dataset: str, load_dataset):
    if dataset not in _PROBE_CACHE:
        from .weight_check import PROBE_IMAGES

        _PROBE_CACHE[dataset] = load_dataset(dataset).train.images[:PROBE_IMAGES]
    return _PROBE_CACHE[dataset]


def _check(args: argparse.Namespace) -> int:
    from trainables.datasets import DataError

    from .spec import SpecError
    from .spec_files import load_spec

    try:
        spec = load_spec(args.spec)
        from .launch import check_methods, load_data

        check_methods(spec, load_data(spec))
    except (SpecError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{spec.name}: every swept weight moves training")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.address is None:
        from .loopback import keep_local_ray_on_loopback

        keep_local_ray_on_loopback()  # before anything imports ray
    from trainables.datasets import DataError

    from .design import describe_plan
    from .spec import SpecError
    from .spec_files import load_spec

    try:
        spec = load_spec(args.spec)
        print(describe_plan(spec), flush=True)
        if args.dry_run:
            return 0
        from .launch import check_methods, check_storage, load_data, run_study

        check_storage(spec, args.storage_path)  # a folder it cannot write, a database it cannot reach
        splits = load_data(spec)  # fail on missing data files before Ray starts
        check_methods(spec, splits)  # and on option values a method refuses
    except (SpecError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _say_data_notes(spec, splits)
    return _sweep(args, spec, lambda: run_study(spec, address=args.address, storage_path=args.storage_path, splits=splits), bad_input=(SpecError, DataError))


def _resume(args: argparse.Namespace) -> int:
    if args.address is None:
        from .loopback import keep_local_ray_on_loopback

        keep_local_ray_on_loopback()
    from trainables.datasets import DataError

    from .launch import read_saved_spec, resume_study
    from .spec import SpecError
    from .storage import ExperimentFiles
    from analysis.tidy import ExperimentError

    try:
        spec = read_saved_spec(ExperimentFiles.at(args.experiment))
    except (SpecError, ExperimentError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"resuming {args.experiment} ({spec.name})", flush=True)
    return _sweep(args, spec, lambda: resume_study(args.experiment, address=args.address), bad_input=(SpecError, DataError))


def _sweep(args: argparse.Namespace, spec: StudySpec, launch, bad_input: tuple = ()) -> int:
    """Run or resume; print the summary; exit 0, 1 when every trial failed, 2 on input found bad late."""
    import pandas as pd

    from analysis import summarize
    from analysis.summary import headline_metrics, noise_note

    started = time.perf_counter()
    try:
        experiment, tidy = launch()
    except ConnectionError as error:  # ray.init could not reach --address
        print(f"error: cannot connect to the Ray cluster at {args.address}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except bad_input as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    minutes = (time.perf_counter() - started) / 60
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(f"\n{spec.name}: {tidy['trial_id'].nunique()} trials in {minutes:.1f} min")
        table = summarize(tidy, headline_metrics(spec.metric))
        print(table.to_string(index=False))
        print("\n".join(["", "mean, std and 95% t interval (low, high) over seeds at the last epoch; numbers differ across machines"] + noise_note(table)))
    print(f"\nexperiment: {experiment}\ntidy table: {experiment}/tidy.csv")
    failed = tidy.groupby("trial_id")["status"].last().eq("error").sum()
    return 1 if failed == tidy["trial_id"].nunique() else 0


def _default_out(experiment: str, kind: str) -> str:
    """Beside a local experiment (<experiment>/<kind>); for a storage URI, ./<name>-<kind>."""
    if "://" in experiment:
        return f"{experiment.rstrip('/').rsplit('/', 1)[-1]}-{kind}"
    return str(Path(experiment) / kind)


def _report(args: argparse.Namespace) -> int:
    from analysis.tidy import ExperimentError

    out = args.out or _default_out(args.experiments[0], args.command)
    try:
        if args.command == "report":
            from analysis.study_report import build_report
            from trainables.methods import METHODS

            defaults = {name: {w.name: w.default for w in cls.weights} for name, cls in METHODS.items()}
            written = build_report(args.experiments, out, metrics=args.metric, defaults=defaults)
        else:
            from analysis.compare_report import build_comparison

            written = build_comparison(args.experiments, out, metrics=args.metric, method=args.method)
    except (ExperimentError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("\n".join(["answer:", *(f"- {line}" for line in written["verdicts"]), ""]))
    print(f"report: {written['markdown']}\n        {written['html']}\ntables: {written['tables']}\nfigures: {written['figures']}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    """Which controller bands can the discriminator reach? From the fixed-weight trials of experiments."""
    import pandas as pd

    from analysis.calibration import calibrate_methods
    from analysis.tidy import ExperimentError, load_experiment

    try:
        bands = [tuple(b) for b in args.band] if args.band else None
        for method, (weight, result) in calibrate_methods(load_experiment(*args.experiments), args.method, bands).items():
            with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
                print(f"{method}: discriminator accuracy over the second half of the fixed-{weight} trials")
                print(result["accuracy"].to_string(index=False))
                print(result["bands"].to_string(index=False))
                if "in_band" in result:
                    print(f"time in band of the adaptive trials:\n{result['in_band'].to_string(index=False)}")
    except (ExperimentError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def _target(text: str) -> tuple[str, float]:
    """METRIC=VALUE, for `study curves --target`."""
    metric, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not metric or number is None:
        raise argparse.ArgumentTypeError(f"a target is METRIC=VALUE (e.g. cluster_acc=0.9), got {text!r}")
    return metric, number


def _curves(args: argparse.Namespace) -> int:
    """Learning curves of one or more experiments: a figure, and a table saying which runs still improve."""
    import pandas as pd

    from analysis.learning_curves import curve_summary, curve_table, learning_curves_figure
    from analysis.tidy import ExperimentError, load_experiment

    out = Path(args.out or _default_out(args.experiments[0], "curves.png"))
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        print(f"error: --out {out} must end in .png, .pdf or .svg (the figure's format)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        curves = curve_table(load_experiment(*args.experiments), args.metric or ["cluster_acc"])
    except (ExperimentError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    learning_curves_figure(curves, dict(args.target or [])).savefig(out, dpi=110)
    summary = curve_summary(curves)
    summary.to_csv(out.with_suffix(".csv"), index=False)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.float_format", "{:.4g}".format):
        print(summary.to_string(index=False))
    print(f"figure: {out}\ntable: {out.with_suffix('.csv')}")
    return 0


def _rescore(args: argparse.Namespace) -> int:
    """Every trial's last checkpoint scored again with this code's metrics; a CSV, and the chosen columns printed."""
    from .rescore import RescoreError, rescore_experiment, show_and_save

    try:
        table = rescore_experiment(args.experiment, progress=lambda line: print(line, flush=True))
    except (RescoreError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    show_and_save(table, Path(args.out or Path(args.experiment) / "rescored.csv"), args.metric)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="study", description="Hyperparameter-sensitivity studies on Ray Tune")
    commands = parser.add_subparsers(dest="command", required=True)
    methods = commands.add_parser("methods", help="list methods, their weights, ranges and adaptive switches")
    methods.add_argument("--check", nargs="?", const="digits", default=None, metavar="DATASET",
                         help="also measure whether each weight moves training (default options, on DATASET: digits unless named)")
    methods.set_defaults(handler=_methods)
    check = commands.add_parser("check", help="check a spec without running it: data, options, and that every swept weight moves training")
    check.add_argument("spec", help="path to a spec YAML, or the name of a shipped spec")
    check.set_defaults(handler=_check)
    run = commands.add_parser("run", help="run a study spec (a YAML path or a shipped spec name)")
    run.add_argument("spec", help="path to a spec YAML, or the name of a shipped spec (e.g. quickstart)")
    run.add_argument("--address", default=None, help="address of a running Ray cluster (default: start Ray locally)")
    run.add_argument("--storage-path", default=None, help="where results go (default: the spec's, $STUDY_STORAGE_PATH or ./study_results)")
    run.add_argument("--dry-run", action="store_true", help="print the trial plan and exit")
    run.set_defaults(handler=_run)
    resume = commands.add_parser("resume", help="continue an interrupted study from its checkpoints")
    resume.add_argument("experiment", help="the experiment folder (or storage URI) that `study run` made")
    resume.add_argument("--address", default=None, help="address of a running Ray cluster (default: start Ray locally)")
    resume.set_defaults(handler=_resume)
    for name, text in (
        ("report", "sensitivity report of one or more experiments (folders or storage URIs)"),
        ("compare", "fixed-vs-adaptive weighting report of one or more experiments"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment folder or storage URI (e.g. s3://bucket/study-...)")
        command.add_argument("--out", default=None, help=f"output folder (default: EXPERIMENT/{'report' if name == 'report' else 'compare'})")
        command.add_argument("--metric", action="append", default=None, help="metric to analyse (repeatable; default: those reported)")
        if name == "compare":
            command.add_argument("--method", default=None, help="only this method (default: every method run both ways)")
        command.set_defaults(handler=_report)
    calibration = commands.add_parser("calibrate", help="which controller bands the discriminator reaches, from fixed-weight trials")
    calibration.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment folder or storage URI")
    calibration.add_argument("--method", default=None, help="only this method (default: every method with an adaptive weight)")
    calibration.add_argument("--band", nargs=2, type=float, action="append", metavar=("LOW", "HIGH"),
                             help="a controller band to test (repeatable; default: the adaptive trials' bands, else 0.70-0.80)")
    calibration.set_defaults(handler=_calibrate)
    curves = commands.add_parser("curves", help="learning curves of experiments: a metric over epochs, and whether each run still improves")
    curves.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment folder (Tune's, or a results folder with tidy.csv) or storage URI")
    curves.add_argument("--metric", action="append", default=None, help="metric to draw (repeatable; default: cluster_acc)")
    curves.add_argument("--target", action="append", type=_target, default=None, metavar="METRIC=VALUE",
                        help="draw a dashed line at VALUE on METRIC's panel, e.g. a paper's number (repeatable)")
    curves.add_argument("--out", default=None, help="figure file, .png/.pdf/.svg (default: EXPERIMENT/curves.png); the table goes beside it as .csv")
    curves.set_defaults(handler=_curves)
    rescore = commands.add_parser("rescore", help="score every trial's last checkpoint again with this code's metric suite")
    rescore.add_argument("experiment", help="the experiment folder `study run` made (local: checkpoints are read from disk)")
    rescore.add_argument("--metric", action="append", default=None, help="column to print (repeatable; the CSV has every metric)")
    rescore.add_argument("--out", default=None, help="CSV file (default: EXPERIMENT/rescored.csv)")
    rescore.set_defaults(handler=_rescore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader went away (`study run x --dry-run | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the interpreter's final flush cannot fail again
        return 0


if __name__ == "__main__":
    sys.exit(main())
