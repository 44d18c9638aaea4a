"""The ``rum`` command: reproduce the paper's RUM table from a terminal.

::

    rum reproduce [--profile small] [--seeds N] [--out DIR]   # run, print the table, write CSV + PNG
    rum reproduce --profile paper --data-root DIR ...          # CIFAR-10 from a local copy (or $RUM_DATA)
    rum paper [--dataset cifar10]                              # print the paper's published table
    rum --version / rum --help / rum COMMAND --help

``python -m rum_core`` is the same command. Results are cached (``$RUM_CACHE``, default
``~/.cache/rum_core``) per (seed, row), so an interrupted ``rum reproduce`` resumes where it stopped and a
rerun with more seeds only computes the new ones.

Everything ``rum reproduce`` needs is checked before any work: the options (argparse: unknown methods,
profiles, proxies), ``$RUM_PROFILE``, an ``--out`` that is an existing file or cannot be written, the data
set, a missing or malformed scores file. Each failure ends the command at once with status 2 and one line
on stderr, ``rum: error: …`` (:class:`UsageError`, and :class:`rum_core.data.DataNotFoundError` for data
that is neither on disk nor downloadable: its message says where to put it), rather than a traceback, and
never after a long run. The banner states the seeds used; fewer than 3 seeds get a warning, because the
95% t-interval over 2 seeds is 12.7 standard errors wide.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

__all__ = ["main", "build_parser", "UsageError"]

#: Fewer seeds than this get a warning: the 95% t-interval is very wide (t = 12.7 for n = 2).
FEW_SEEDS = 3


class UsageError(ValueError):
    """Something ``rum`` was asked to use is wrong (a setting, a path, a file); shown as one line, status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rum`` (every command and option is documented in ``--help``)."""
    from . import experiments, profiles, unlearners
    from .memorization import PROXIES

    parser = argparse.ArgumentParser(
        prog="rum", description="Reproduce 'What makes unlearning hard and what to do about it' (Zhao et al., "
                                "NeurIPS 2024): the RUM table with 95% t-intervals over seeds.",
        epilog=f"Environment: RUM_PROFILE (default profile), RUM_CACHE (cache directory), RUM_PROGRESS=0 (no "
               f"progress bars), {experiments.MEMORIZATION_SCORES_ENV} (published memorization scores), "
               f"{profiles.DATA_ENV} (a local copy of CIFAR for the paper profile). "
               f"Profiles: {', '.join(sorted(profiles.PROFILES))}.")
    parser.add_argument("--version", action="version", version=f"rum {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    rep = sub.add_parser(
        "reproduce", help="run the RUM table (vanilla / shuffle / RUM^F per method, and RUM) and write CSV + PNG",
        description="For each seed: train (or load) the original model, build a forget set mixing low, medium "
                    "and high memorization in equal parts, retrain without it, then run every row of the "
                    "paper's table and score it against retrain. Prints mean ± 95% t-interval over seeds "
                    "of ToW and MIA gap, and cost relative to retrain; writes rum_runs.csv (one row per seed "
                    "and row), rum_table.csv (the summary) and rum_table.png to --out.")
    rep.add_argument("--profile", default=None, choices=sorted(profiles.PROFILES),
                     help="scale of the experiment (default: $RUM_PROFILE, else 'small')")
    rep.add_argument("--seeds", type=_positive_int, default=None,
                     help="number of seeds 0..N-1 (default: the profile's number of seeds)")
    rep.add_argument("--out", type=Path, default=Path("rum-results"),
                     help="directory for the CSV files and the figure (default: ./rum-results)")
    methods = [m for m in unlearners.available() if m not in ("identity", "retrain")]
    rep.add_argument("--methods", nargs="+", default=list(experiments.RUM_METHODS), metavar="METHOD",
                     choices=methods,
                     help=f"unlearning methods of the per-method rows, among {', '.join(methods)} (default: "
                          f"{' '.join(experiments.RUM_METHODS)})")
    rep.add_argument("--ablation", action="store_true",
                     help="also run each method on the high-memorization subset only")
    rep.add_argument("--retain-policy", default="processed", choices=["processed", "forget"],
                     help="retain set of each RUM step: D minus the subsets processed so far (the authors', "
                          "default) or D minus the whole forget set")
    rep.add_argument("--refine-by", default="memorization", choices=["memorization", *PROXIES], metavar="SCORES",
                     help="scores that refine the forget set: 'memorization' (the estimate, default) or a "
                          "proxy name (confidence, max_confidence, neg_entropy, binary_accuracy, "
                          "cumulative_loss, holdout_kl)")
    rep.add_argument("--memorization-scores", type=Path, default=None, metavar="NPZ",
                     help="published memorization scores (C-scores or Feldman & Zhang, official order) for a "
                          "profile that trains no memorization models, such as 'paper' (default: "
                          f"${experiments.MEMORIZATION_SCORES_ENV})")
    rep.add_argument("--missing-scores", choices=["refuse", "zero"], default=None,
                     help="examples that the published scores give no estimate for (Feldman & Zhang's "
                          "high-influence pairs file lists only memorization ≥ 0.25): refuse the file (default) "
                          "or read them as 0, not memorized (default: "
                          f"${experiments.MISSING_SCORES_ENV}, else refuse)")
    rep.add_argument("--data-root", type=Path, default=None, metavar="DIR",
                     help="a local copy of the profile's CIFAR data, for a machine without network: a directory "
                          "holding torchvision's cifar-10-batches-py/ (or cifar-100-python/), or an image folder "
                          "DIR/{train,test}/<class>/<k>.<ext> with the official labels in DIR/train_labels.npz "
                          "(a copy of the C-score file) so that published scores line up (default: "
                          f"${profiles.DATA_ENV}, else torchvision's copy in the cache directory, downloaded "
                          "on first use)")
    rep.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    pap = sub.add_parser("paper", help="print the paper's published RUM table (CIFAR-10 or CIFAR-100)",
                         description="Print Table 1 of the paper as published (ToW ± 95% interval, MIA gap).")
    pap.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100"],
                     help="which half of the table (default: cifar10)")
    return parser


def _reproduce(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import experiments, plots, profiles
    from . import rum as _rum

    profile, out = _checked_setup(args)
    n_seeds = args.seeds or profile.seeds
    progress_bar = False if args.no_progress else None
    cells = experiments.rum_cells(args.methods, profile=profile, ablation=args.ablation,
                                  retain_policy=args.retain_policy)
    print(f"{profiles.banner(profile)} · seeds {', '.join(map(str, range(n_seeds)))} (n = {n_seeds})",
          file=sys.stderr)
    if n_seeds < FEW_SEEDS:
        print(f"rum: warning: {n_seeds} seed(s): the 95% t-interval over so few seeds is very wide (or, for one "
              f"seed, undefined); use --seeds {FEW_SEEDS} or more for a table to compare", file=sys.stderr)
    runs = experiments.rum_runs(profile, cells, seeds=range(n_seeds), refine_by=args.refine_by,
                                progress_bar=progress_bar)
    summary = experiments.rum_table(runs)
    table = _rum.paper_layout(summary, dataset="cifar10")
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / "rum_runs.csv", index=False)
    summary.to_csv(out / "rum_table.csv", index=False)
    fig = plots.rum_bars(runs, reference=_rum.paper_table("cifar10"), reference_name="paper (CIFAR-10)",
                         title=f"RUM table, profile {profile.name!r}, mean ± 95% interval over {n_seeds} seeds")
    fig.savefig(out / "rum_table.png", dpi=120)
    plt.close(fig)
    print(f"RUM table, profile {profile.name!r}, {n_seeds} seeds (mean ± 95% t-interval), refined by "
          f"{args.refine_by}, retain policy {args.retain_policy!r}:")
    print(table.to_string())
    print(f"wrote {out / 'rum_runs.csv'}, {out / 'rum_table.csv'}, {out / 'rum_table.png'}")
    return 0


def _writable_dir(out: Path) -> Path:
    """``out`` when it is a writable directory or can be created as one (nothing is created here: an existing
    directory is probed with a temporary file, a new one by its nearest existing ancestor)."""
    import tempfile

    out = out.expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is an existing file, not a directory")
    if out.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=out, prefix=".rum-write-test-"):
                pass
        except OSError as err:
            raise UsageError(f"--out {str(out)!r} cannot be written: {err.strerror or err}") from err
        return out
    ancestor = next(p for p in out.parents if p.exists())
    if not ancestor.is_dir():
        raise UsageError(f"--out {str(out)!r} cannot be created: {str(ancestor)!r} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"--out {str(out)!r} cannot be created: {str(ancestor)!r} is not writable")
    return out


def _checked_setup(args):
    """``(profile, out)`` once every setting, path and input of ``rum reproduce`` has been checked (see the
    module docstring), the data and any published scores loaded; :class:`UsageError` otherwise."""
    from . import experiments, profiles

    overrides = {} if args.data_root is None else {"data_root": args.data_root}
    try:
        profile = profiles.get_profile(args.profile, **overrides)
    except ValueError as err:
        raise UsageError(str(err)) from err
    if args.memorization_scores is not None:
        if profile.memorization_models is not None:
            raise UsageError(f"--memorization-scores is for profiles that train no memorization models; profile "
                             f"{profile.name!r} estimates memorization from {profile.memorization_models} models")
        os.environ[experiments.MEMORIZATION_SCORES_ENV] = str(args.memorization_scores)
    if args.missing_scores is not None:
        os.environ[experiments.MISSING_SCORES_ENV] = args.missing_scores
    out = _writable_dir(Path(args.out))
    experiments.load_data(profile)  # missing data fails here (DataNotFoundError), before any work
    if profile.memorization_models is None and args.refine_by == "memorization":
        try:  # published scores are cheap to read and check against the labels: do it now, not after a run
            experiments.memorization_scores(profile)
        except (ValueError, OSError) as err:  # no file, another format, other labels, missing estimates
            raise UsageError(str(err)) from err
    return profile, out


def _paper(args) -> int:
    from . import rum as _rum

    t = _rum.paper_table(args.dataset)
    print(f"Zhao et al. (NeurIPS 2024), Table 1, {args.dataset}:")
    print(t[["label", "tow", "tow_ci", "mia_gap"]].to_string(index=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rum`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    A bad setting, path or input (:class:`UsageError`) or missing data
    (:class:`rum_core.data.DataNotFoundError`) ends it with status 2 and the error's one line on stderr, as
    argparse does for a bad command line; other errors propagate with their traceback.
    """
    from .data import DataNotFoundError

    args = build_parser().parse_args(list(argv) if argv is not None else None)
    if getattr(args, "no_progress", False):
        os.environ["RUM_PROGRESS"] = "0"
    try:
        if args.command == "reproduce":
            return _reproduce(args)
        return _paper(args)
    except (DataNotFoundError, UsageError) as err:
        print(f"rum: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
