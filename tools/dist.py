"""``make dist``: the wheel, and a notebooks bundle a teacher can upload to Colab or a course site.

A course may run before (or without) a public release, so the book must be usable from files alone:

* ``dist/rum_core-<version>-py3-none-any.whl``: the package (``pip install "<wheel>[book]"``);
* ``dist/rum_core-<version>-notebooks.zip``: every chapter (without outputs), the bibliography, a short
  ``README.txt``, and the same wheel. Uploaded to Colab next to the notebooks (the Files pane puts them in
  ``/content``), the wheel is what each chapter's first cell installs; elsewhere, install it by hand.

Refuses to build while the chapters' install cells are out of step with ``pyproject.toml``
(``make sync`` fixes that), since a bundle would then install another version than the one it carries.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_meta  # noqa: E402  (tools/ is not a package)

ROOT = book_meta.ROOT

BUNDLE_README = """\
rum_core {version}: the chapters of "What makes unlearning hard — and what to do about it"
{documentation}

Colab: upload this folder's .ipynb files and {wheel} (Files pane, which puts them in /content), open a
chapter and run it top to bottom: its first cell installs rum_core[book] from the uploaded wheel.

JupyterLab or a course server: pip install "{wheel}[book]", then open the chapters.

Each chapter runs on a CPU in minutes (RUM_PROFILE=small, the default; RUM_PROFILE=smoke for seconds).
"""


def build_wheel(out_dir: Path) -> Path:
    """Build the project's wheel into ``out_dir`` with pip (no dependencies); return its path."""
    meta = book_meta.metadata()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp,
                        str(ROOT)], check=True)
        built = sorted(Path(tmp).glob(f"rum_core-{meta['version']}-*.whl"))
        if len(built) != 1:
            raise RuntimeError(f"pip wheel made {[p.name for p in Path(tmp).iterdir()]}, expected one "
                               f"rum_core-{meta['version']} wheel")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(built[0], out_dir / built[0].name))


def build_bundle(wheel: Path, out_dir: Path) -> Path:
    """Zip the chapters, the bibliography, a README and ``wheel`` into ``out_dir``; return the zip's path."""
    meta = book_meta.metadata()
    name = f"rum_core-{meta['version']}-notebooks"
    bundle = out_dir / f"{name}.zip"
    chapters = sorted((ROOT / "book").glob("*.ipynb"))
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in [*chapters, ROOT / "book" / "references.bib"]:
            zf.write(path, f"{name}/{path.name}")
        zf.write(wheel, f"{name}/{wheel.name}")
        zf.writestr(f"{name}/README.txt", BUNDLE_README.format(wheel=wheel.name, **meta))
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    stale = book_meta.out_of_step()
    if stale:
        print(f"dist: out of step with pyproject.toml: {', '.join(stale)}; run `make sync` first", file=sys.stderr)
        return 2
    wheel = build_wheel(args.out)
    bundle = build_bundle(wheel, args.out)
    for path in (wheel, bundle):
        print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}  "
              f"{path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
