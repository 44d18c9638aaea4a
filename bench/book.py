"""Benchmark: how long the book's chapters take to execute from a cold cache, chapter by chapter.

Issue targets: chapter 6 (RUM) within 3 minutes and the whole book within 10 minutes on 2 CPU cores at the
default profile, from a cold cache. This runs every chapter of ``_toc.yml`` in order, in one fresh empty
``RUM_CACHE`` shared by all chapters (as ``make book`` shares ``~/.cache/rum_core``: later chapters reuse
the models that earlier ones trained), with the book's environment (one torch thread, no progress bars),
and prints each chapter's execution time and the total. Nothing is written to the book's own build folder.

    .venv/bin/python bench/book.py [--profile small] [--keep-cache DIR]

Wall times depend on the machine and on other load on its cores; the figures printed name the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


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
    args = parser.parse_args()
    cache = args.keep_cache or Path(tempfile.mkdtemp(prefix="rum-bench-book-"))
    env = {"RUM_CACHE": str(cache), "RUM_PROFILE": args.profile, "RUM_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    os.environ.update(env)  # the kernels inherit this environment
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
          f"profile {args.profile!r}; cache {cache} ({'given' if args.keep_cache else 'fresh, empty'})")
    total = 0.0
    try:
        for path in chapters():
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=1800, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{path.name:32s} {seconds:7.1f} s", flush=True)
    finally:
        if args.keep_cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"{'whole book':32s} {total:7.1f} s  ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
