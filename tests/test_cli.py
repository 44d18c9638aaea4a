"""Tests for the ``rum`` command (rum_core.cli)."""

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rum_core
from rum_core import cli, experiments, profiles


def test_reproduce_at_smoke_writes_its_files(tmp_path, monkeypatch, capsys):
    """Guards against a CLI that runs but writes nothing (or the wrong thing): the table must be printed in
    the paper's layout and the CSVs and figure must land in --out."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results"
    status = cli.main(["reproduce", "--profile", "smoke", "--seeds", "2", "--methods", "finetune",
                       "--out", str(out), "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "ToW" in printed and "MIA gap" in printed and "finetune rum_f" in printed and "\nrum " in printed
    assert "±" in printed
    for name in ("rum_runs.csv", "rum_table.csv", "rum_table.png"):
        assert (out / name).stat().st_size > 0
    runs = pd.read_csv(out / "rum_runs.csv")
    assert sorted(runs["seed"].unique()) == [0, 1]
    assert runs["label"].drop_duplicates().tolist() == ["retrain", "finetune vanilla", "finetune shuffle",
                                                        "finetune rum_f", "rum"]
    table = pd.read_csv(out / "rum_table.csv")
    assert {"label", "tow", "tow_ci", "mia_gap", "mia_gap_ci", "n"} <= set(table.columns)
    assert (table["n"] == 2).all()
    assert (out / "rum_table.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_documents_every_command():
    """Guards against an undocumented command or a broken module entry point (``python -m rum_core.cli``)."""
    res = subprocess.run([sys.executable, "-m", "rum_core.cli", "--help"], capture_output=True, text=True,
                         check=True)
    assert "reproduce" in res.stdout and "paper" in res.stdout
    res = subprocess.run([sys.executable, "-m", "rum_core.cli", "reproduce", "--help"], capture_output=True,
                         text=True, check=True)
    for option in ("--profile", "--seeds", "--out", "--methods", "--ablation", "--retain-policy", "--refine-by",
                   "--data-root", "RUM_DATA"):
        assert option in res.stdout


def test_paper_command_prints_published_table(capsys):
    """Guards against the published numbers drifting from rum_core.rum.PAPER_TABLE."""
    assert cli.main(["paper", "--dataset", "cifar100"]) == 0
    out = capsys.readouterr().out
    assert "cifar100" in out and "0.921" in out and "salun rum_f" in out


@pytest.mark.parametrize("argv, match", [
    (["reproduce", "--seeds", "0"], "positive integer"),
    (["reproduce", "--profile", "huge"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_are_rejected(argv, match, capsys):
    """Guards against bad command lines starting a long run instead of failing with a clear message."""
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


def _one_line_error(capsys, argv) -> str:
    """Run ``rum argv``, require exit status 2 and return its one stderr line (argparse's or rum's)."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    assert status == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rum")]
    assert len(lines) == 1 and "error:" in lines[0], lines
    return lines[0]


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if any experiment starts: every check must come before it."""
    monkeypatch.setattr(experiments, "rum_runs", lambda *a, **k: pytest.fail("the experiment started"))


def test_bad_settings_are_one_line_errors_before_any_work(tmp_path, monkeypatch, capsys, no_work):
    """Guards against a typo or a bad path discovered only after the whole run (a bad --out used to fail
    after it): unknown --methods / --refine-by / RUM_PROFILE, an --out that is a file or cannot be created."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    base = ["reproduce", "--profile", "smoke", "--seeds", "1"]
    assert "invalid choice: 'finetun'" in _one_line_error(capsys, [*base, "--methods", "finetun"])
    assert "invalid choice: 'loss'" in _one_line_error(capsys, [*base, "--refine-by", "loss"])
    monkeypatch.setenv(profiles.PROFILE_ENV, "huge")
    assert "unknown profile 'huge'" in _one_line_error(capsys, ["reproduce", "--seeds", "1"])
    monkeypatch.delenv(profiles.PROFILE_ENV)
    (tmp_path / "a-file").write_text("x")
    assert "is an existing file" in _one_line_error(capsys, [*base, "--out", str(tmp_path / "a-file")])
    assert "cannot be created" in _one_line_error(capsys, [*base, "--out", str(tmp_path / "a-file" / "sub")])


def test_banner_states_the_seeds_and_warns_below_three(tmp_path, monkeypatch, capsys):
    """The banner names the seeds actually used; one or two seeds get a warning about the interval."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(experiments, "rum_runs", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    for n, warned in ((2, True), (3, False)):
        with pytest.raises(KeyboardInterrupt):  # stop right after the banner
            cli.main(["reproduce", "--profile", "smoke", "--seeds", str(n), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert f"seeds {', '.join(map(str, range(n)))} (n = {n})" in err
        assert ("very wide" in err) is warned


def test_memorization_scores_option(tmp_path, monkeypatch, capsys):
    """--memorization-scores feeds a profile that trains no memorization models; it is refused where the
    profile estimates memorization itself, and a missing or malformed file is named before anything runs."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(experiments.MEMORIZATION_SCORES_ENV, "")  # restored after the test
    smoke = profiles.get_profile("smoke")
    monkeypatch.setitem(profiles.PROFILES, "published", dataclasses.replace(smoke, name="published",
                                                                            memorization_models=None))
    labels = experiments.load_data(smoke).source_labels()  # a published file's order: before the carve
    path = tmp_path / "cs.npz"
    np.savez(path, labels=labels, scores=np.linspace(0, 1, len(labels)))
    assert "estimates memorization from 20 models" in _one_line_error(
        capsys, ["reproduce", "--profile", "smoke", "--memorization-scores", str(path), "--out", str(tmp_path)])
    assert "nope.npz" in _one_line_error(
        capsys, ["reproduce", "--profile", "published", "--memorization-scores", str(tmp_path / "nope.npz")])
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, labels=np.roll(labels, 1), scores=np.linspace(0, 1, len(labels)))
    with monkeypatch.context() as m:
        m.setattr(experiments, "rum_runs", lambda *a, **k: pytest.fail("the experiment started"))
        assert "labels" in _one_line_error(capsys, ["reproduce", "--profile", "published", "--memorization-scores",
                                                    str(wrong), "--out", str(tmp_path / "w")])
        m.setenv(experiments.MEMORIZATION_SCORES_ENV, "")  # (the option above set it for this process)
        assert "RUM_MEMORIZATION_SCORES" in _one_line_error(capsys, ["reproduce", "--profile", "published",
                                                                     "--out", str(tmp_path / "w")])
    out = tmp_path / "results"
    assert cli.main(["reproduce", "--profile", "published", "--seeds", "1", "--methods", "finetune",
                     "--memorization-scores", str(path), "--out", str(out), "--no-progress"]) == 0
    assert "finetune rum_f" in capsys.readouterr().out
    assert pd.read_csv(out / "rum_runs.csv")["tow"].notna().all()

    # Feldman & Zhang's pairs layout covers some examples only: refused before any work unless a policy
    # for the others is given; with --missing-scores zero it drives the whole table
    pairs = tmp_path / "pairs.npz"
    covered = np.arange(0, len(labels), 3)
    np.savez(pairs, tr_idx=covered, tt_idx=np.zeros_like(covered), infl=np.full(len(covered), 0.2),
             mem=np.linspace(0.25, 1, len(covered)), tr_labels=labels)
    args = ["reproduce", "--profile", "published", "--seeds", "1", "--methods", "finetune",
            "--memorization-scores", str(pairs), "--no-progress"]
    with monkeypatch.context() as m:
        m.setattr(experiments, "rum_runs", lambda *a, **k: pytest.fail("the experiment started"))
        line = _one_line_error(capsys, [*args, "--out", str(tmp_path / "p")])
    n_train = len(experiments.load_data(smoke).train)  # the file's examples left after the validation carve
    absent, listed = map(int, re.search(r"(\d+) of \d+ training examples have no estimate \(the file lists "
                                        r"(\d+)\)", line).groups())
    assert absent + listed == n_train and 0 < listed < n_train
    assert "--missing-scores zero" in line
    assert cli.main([*args, "--missing-scores", "zero", "--out", str(tmp_path / "p")]) == 0
    assert pd.read_csv(tmp_path / "p" / "rum_runs.csv")["tow"].notna().all()


def test_version_is_pyprojects(capsys):
    """Guards against a `rum --version` that drifts from the one version, pyproject.toml's."""
    import importlib.metadata
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    assert importlib.metadata.version("rum_core") == version == rum_core.__version__
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"rum {version}\n"


def test_python_m_rum_core_is_the_rum_command():
    """Guards against `python -m rum_core` (for a kernel or an unactivated venv) being missing or another CLI."""
    res = subprocess.run([sys.executable, "-m", "rum_core", "--version"], capture_output=True, text=True,
                         check=True)
    assert res.stdout == f"rum {rum_core.__version__}\n"
    res = subprocess.run([sys.executable, "-m", "rum_core", "paper", "--dataset", "cifar10"], capture_output=True,
                         text=True, check=True)
    assert "Table 1, cifar10" in res.stdout and "salun rum_f" in res.stdout
