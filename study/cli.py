"""The `study` command: list methods, plan and run studies.

Exit codes: 0 done, 2 bad input (spec, data, arguments; nothing was started), 1 the sweep
itself failed.
"""

from __future__ import annotations

import argparse
import sys
import time

EXIT_BAD_INPUT = 2


def _methods(_: argparse.Namespace) -> int:
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
    return 0


def _run(args: argparse.Namespace) -> int:
    from trainables.datasets import DataError

    from .design import describe_plan
    from .spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec)
        print(describe_plan(spec), flush=True)
        if args.dry_run:
            return 0
        from .launch import load_data, run_study

        splits = load_data(spec)  # fail on missing data files before Ray starts
    except (SpecError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    import pandas as pd

    from analysis import summarize

    started = time.perf_counter()
    try:
        experiment, tidy = run_study(spec, address=args.address, storage_path=args.storage_path, splits=splits)
    except ConnectionError as error:  # ray.init could not reach --address
        print(f"error: cannot connect to the Ray cluster at {args.address}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    minutes = (time.perf_counter() - started) / 60
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(f"\n{spec.name}: {tidy['trial_id'].nunique()} trials in {minutes:.1f} min")
        print(summarize(tidy).to_string(index=False))
    print(f"\nexperiment: {experiment}\ntidy table: {experiment / 'tidy.csv'}")
    failed = tidy.groupby("trial_id")["status"].last().eq("error").sum()
    return 1 if failed == tidy["trial_id"].nunique() else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="study", description="Hyperparameter-sensitivity studies on Ray Tune")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("methods", help="list methods, their weights, ranges and adaptive switches").set_defaults(handler=_methods)
    run = commands.add_parser("run", help="run a study spec (a YAML path or a shipped spec name)")
    run.add_argument("spec", help="path to a spec YAML, or the name of a shipped spec (e.g. quickstart)")
    run.add_argument("--address", default=None, help="address of a running Ray cluster (default: start Ray locally)")
    run.add_argument("--storage-path", default=None, help="where results go (default: the spec's, $STUDY_STORAGE_PATH or ./study_results)")
    run.add_argument("--dry-run", action="store_true", help="print the trial plan and exit")
    run.set_defaults(handler=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
