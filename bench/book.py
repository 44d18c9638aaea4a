"""Benchmark: how long the book's chapters take to execute from a cold cache, chapter by chapter.

Issue targets: chapter 6 (RUM) within 3 minutes and the whole book within 10 minutes on 2 CPU cores at the
default profile, from a cold cache. This runs every chapter of ``_toc.yml`` in order, in one fresh empty
``RUM_CACHE`` shared by all chapters (as ``make book`` shares ``~/.cache/rum_core``: later chapters reuse
the models that earlier ones trained), with the book's environment (one torch thread, no progress bars),
and prints each chapter's execution time and the total. Nothing is written to the book's own build folder.

    .venv/bin/python bench/book.py [--profile small] [--keep-cache DIR] [--glue-out FILE] [--only STEM ...]
                                   [--record FILE]

``--glue-out FILE`` also writes every value the chapters glued (myst-nb's ``glue``: the numbers and
verdicts the prose cites) as JSON, chapter → name → text form, so that two versions of the code can be
compared on the book's numbers: run it for each and diff the two files. ``--only 03_measuring`` runs just
the chapters named (by file stem), e.g. to compare one chapter's values at the ``smoke`` profile.
``--record FILE`` writes the timings as JSON (machine, cores, date, commit, profile, seconds per chapter and
in all): ``rum_core/findings/measured/book_<profile>.json`` is such a record, which the memorization
chapter cites to say why the default profile is what it is (:func:`rum_core.findings.memorization.book_time`).

Wall times depend on the machine and on other load on its cores; the figures printed name the machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def glued_values(nb) -> dict[str, str]:
    """Name → text form of every value an executed notebook glued (outputs that carry myst-nb's
    ``scrapbook`` metadata); a figure is recorded by its MIME types only, its pixels are not compared."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook")
            if record is None:
                continue
            name, prefix = record["name"], len(record.get("mime_prefix", ""))
            data = {mime[prefix:]: value for mime, value in out.get("data", {}).items()}
            values[name] = data["text/plain"] if "image/png" not in data and "text/plain" in data \
                else "<" + ", ".join(sorted(data)) + ">"
    return values


def chapters() -> list[Path]:
    """The notebooks of ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc.get("parts", [toc]) for entry in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="small", help="RUM_PROFILE for the chapters (default: small)")
    parser.add_argument("--keep-cache", type=Path, default=None,
                        help="use (and keep) this cache directory instead of a throwaway one")
    parser.add_argument("--glue-out", type=Path, default=None,
                        help="write the glued values of every chapter to this JSON file")
    parser.add_argument("--only", nargs="+", default=None, metavar="STEM",
                        help="run only these chapters (file stems, e.g. 03_measuring)")
    parser.add_argument("--record", type=Path, default=None,
                        help="write the timings (with the machine, date and commit) to this JSON file")
    args = parser.parse_args()
    selected = chapters()
    if args.only is not None:
        unknown = sorted(set(args.only) - {p.stem for p in selected})
        if unknown:
            parser.error(f"--only: no chapter named {unknown}; the chapters are {[p.stem for p in selected]}")
        selected = [p for p in selected if p.stem in args.only]
    cache = args.keep_cache or Path(tempfile.mkdtemp(prefix="rum-bench-book-"))
    cold = not (cache.exists() and any(cache.iterdir()))
    env = {"RUM_CACHE": str(cache), "RUM_PROFILE": args.profile, "RUM_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    os.environ.update(env)  # the kernels inherit this environment
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
          f"profile {args.profile!r}; cache {cache} ({'given' if args.keep_cache else 'fresh, empty'})")
    total = 0.0
    glued: dict[str, dict[str, str]] = {}
    seconds_by_chapter: dict[str, float] = {}
    try:
        for path in selected:
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=1800, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            seconds = time.perf_counter() - start
            total += seconds
            seconds_by_chapter[path.stem] = round(seconds, 1)
            print(f"{path.name:32s} {seconds:7.1f} s", flush=True)
            glued[path.stem] = glued_values(nb)
    finally:
        if args.keep_cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"{'whole book' if args.only is None else 'total':32s} {total:7.1f} s  ({total / 60:.1f} min)")
    if args.record is not None:
        # the commit measured, "+" when the working tree had uncommitted changes on top of it
        commit = subprocess.run(["git", "describe", "--always", "--dirty=+"], cwd=ROOT, capture_output=True,
                                text=True, check=False).stdout.strip() or None
        record = {"profile": args.profile, "machine": platform.machine(), "cpu_cores": os.cpu_count(),
                  "date": datetime.date.today().isoformat(), "commit": commit, "cold_cache": cold,
                  "whole_book": args.only is None, "chapters_s": seconds_by_chapter, "total_s": round(total, 1)}
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1) + "\n")
        print(f"timings recorded in {args.record}")
    if args.glue_out is not None:
        args.glue_out.write_text(json.dumps(glued, indent=1, sort_keys=True) + "\n")
        print(f"glued values: {sum(map(len, glued.values()))} in {args.glue_out}")


if __name__ == "__main__":
    main()
