"""``make dist``: the wheel and the notebooks bundle, and the wheel as a course would use it — installed with
its ``[book]`` extra into a fresh virtual environment by chapter 1's own Colab cell, then chapter 1 run
top to bottom at the ``smoke`` profile."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_meta  # noqa: E402
import dist  # noqa: E402

VERSION = book_meta.metadata()["version"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    assert dist.main(["--out", str(out)]) == 0
    return out / f"rum_core-{VERSION}-py3-none-any.whl", out / f"rum_core-{VERSION}-notebooks.zip"


def test_the_wheel_holds_the_package_and_declares_the_book_extra(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"rum_core-{VERSION}.dist-info/METADATA").decode()
    assert {"rum_core/__init__.py", "rum_core/notebook.py", "rum_core/unlearners/__init__.py",
            "rum_core/findings/measured/book_mnist1d.json"} <= names  # the record chapter 5 cites
    assert not any(n.startswith(("tests/", "book/", "tools/")) for n in names)
    assert "Provides-Extra: book" in meta and 'extra == "book"' in meta
    assert f"Version: {VERSION}" in meta


def test_the_bundle_holds_every_chapter_without_outputs_and_the_same_wheel(built):
    wheel, bundle = built
    top = f"rum_core-{VERSION}-notebooks"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        chapters = sorted(n for n in names if n.endswith(".ipynb"))
        assert [Path(n).name for n in chapters] == sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))
        assert zf.read(f"{top}/{wheel.name}") == wheel.read_bytes()
        for name in chapters:
            nb = json.loads(zf.read(name))
            assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), name
        readme = zf.read(f"{top}/README.txt").decode()
    assert {f"{top}/references.bib", f"{top}/README.txt"} <= names
    assert wheel.name in readme


def test_dist_refuses_to_bundle_chapters_out_of_step_with_pyproject(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(dist.book_meta, "out_of_step", lambda *a, **k: ["book/01_first_unlearning.ipynb"])
    assert dist.main(["--out", str(tmp_path)]) == 2
    assert "run `make sync` first" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


def test_chapter_1_installs_the_uploaded_wheel_in_a_fresh_venv_and_runs(built, tmp_path):
    wheel, _ = built
    venv, course = tmp_path / "venv", tmp_path / "course"
    course.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # only what runs a notebook; rum_core and its [book] extra come from chapter 1's first cell
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "nbclient", "ipykernel"], check=True)
    (course / wheel.name).write_bytes(wheel.read_bytes())
    nb = nbformat.read(ROOT / "book" / "01_first_unlearning.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')  # pretend: Colab"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import importlib.metadata, rum_core\n"
        "print(rum_core.__file__)\n"
        "print(importlib.metadata.distribution('rum_core').read_text('direct_url.json'))"))
    nbformat.write(nb, course / "chapter.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(RUM_PROFILE="smoke", RUM_CACHE=str(tmp_path / "cache"), RUM_PROGRESS="0")
    subprocess.run([str(python), "-c", RUNNER, str(course / "chapter.ipynb"), str(course / "done.ipynb"),
                    str(course)], check=True, env=env, cwd=course)
    done = nbformat.read(course / "done.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in done.cells[-1].outputs)
    path, direct_url = printed.strip().split("\n", 1)
    assert Path(path).resolve().is_relative_to(venv.resolve())  # the installed wheel, not this checkout
    assert json.loads(direct_url)["url"] == (course / wheel.name).resolve().as_uri()
    figures = [o for c in done.cells if c.cell_type == "code" for o in c.outputs
               if any(m.startswith("image/") for m in o.get("data", {}))]
    assert figures
