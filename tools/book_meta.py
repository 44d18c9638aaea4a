"""Keep the book's copies of the project's public home in step with ``pyproject.toml``.

``[project.urls]`` and ``[project].version`` in ``pyproject.toml`` are the one place where the project's
repository, documentation and version are set. Two kinds of files need them and cannot read TOML:

* ``_config.yml`` (Jupyter Book 1): the repository URL behind the repository, issues and launch buttons;
* ``CITATION.cff``: the package's version and repository;
* every chapter's first cell, which installs ``rum_core[book]`` on Colab before anything else has run —
  at the version of the book it belongs to: a wheel uploaded next to the notebook (``make dist``) when
  there is one, else that version's wheel from the project's GitHub release.

``python tools/book_meta.py`` (``make sync``) rewrites both from ``pyproject.toml``; ``--check`` (run by
``make test`` through ``tests/test_book_meta.py``) lists what is out of step and exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_MARKER = "# On Colab, install rum_core"

INSTALL_CELL = '''\
# On Colab, install rum_core[book] {version}, the version this book belongs to (does nothing elsewhere).
# A wheel uploaded next to the notebook (from `make dist`) is used if there is one, else the release's.
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    wheels = sorted({{*Path.cwd().glob("{wheel}"), *Path("/content").glob("{wheel}")}})
    wheel = wheels[0].resolve().as_uri() if wheels else "{release}/{wheel_file}"
    %pip install --quiet "rum_core[book] @ {{wheel}}"'''


def metadata(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Version, repository and documentation URL from ``pyproject.toml``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    urls = project.get("urls", {})
    for key in ("Repository", "Documentation"):
        if key not in urls:
            raise ValueError(f"{pyproject}: [project.urls] has no {key!r}")
    return {"version": project["version"], "repository": urls["Repository"].rstrip("/"),
            "documentation": urls["Documentation"]}


def install_cell(meta: dict[str, str]) -> str:
    """The source of every chapter's first code cell, for ``meta`` from :func:`metadata`."""
    version = meta["version"]
    wheel_file = f"rum_core-{version}-py3-none-any.whl"
    return INSTALL_CELL.format(version=version, wheel=f"rum_core-{version}-*.whl", wheel_file=wheel_file,
                               release=f"{meta['repository']}/releases/download/v{version}")


def _synced_config(text: str, meta: dict[str, str]) -> str:
    pattern = re.compile(r"^(repository:\n  url: ).*$", re.M)
    if not pattern.search(text):
        raise ValueError("_config.yml has no 'repository:\\n  url:' entry to keep in step")
    return pattern.sub(lambda m: m.group(1) + meta["repository"], text)


def _synced_citation(text: str, meta: dict[str, str]) -> str:
    for key, value in (("version", meta["version"]), ("repository-code", f'"{meta["repository"]}"')):
        pattern = re.compile(rf"^({re.escape(key)}: ).*$", re.M)
        if not pattern.search(text):
            raise ValueError(f"CITATION.cff has no top-level {key!r} to keep in step")
        text = pattern.sub(lambda m, v=value: m.group(1) + v, text)
    return text


def _synced_notebook(text: str, meta: dict[str, str], name: str) -> str:
    nb = json.loads(text)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code or not "".join(code[0]["source"]).startswith(INSTALL_MARKER):
        raise ValueError(f"{name}: its first code cell must be the Colab install cell ({INSTALL_MARKER!r}...)")
    code[0]["source"] = install_cell(meta).splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def out_of_step(root: Path = ROOT, write: bool = False) -> list[str]:
    """The files whose copy of the project's home or version differs from ``pyproject.toml``.

    With ``write=True`` they are rewritten first (and the list says which were).
    """
    meta = metadata(root / "pyproject.toml")
    targets = [(root / "_config.yml", _synced_config), (root / "CITATION.cff", _synced_citation)]
    targets += [(p, lambda t, m, p=p: _synced_notebook(t, m, p.name)) for p in sorted((root / "book").glob("*.ipynb"))]
    stale = []
    for path, sync in targets:
        text = path.read_text()
        synced = sync(text, meta)
        if synced != text:
            stale.append(str(path.relative_to(root)))
            if write:
                path.write_text(synced)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is out of step (exit 1 if any)")
    args = parser.parse_args(argv)
    stale = out_of_step(write=not args.check)
    for name in stale:
        print(f"{'out of step with pyproject.toml' if args.check else 'updated'}: {name}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
