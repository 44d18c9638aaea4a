"""Every method presents itself: ``help(unlearners.make(name))`` shows what it does, its loss, each
hyperparameter with its default (the paper's) and where that default comes from, and the citation."""

import ast
import inspect
import pydoc
import re

import pytest

from rum_core import unlearners
from rum_core.unlearners import base

METHODS = unlearners.available()
LINE = re.compile(r"^    (\w+) = (.+?): (.+)$")  # one hyperparameter line of the docstring's list

# The defaults the paper and the authors' README give (../shared/docs/paper-notes.md, "Unlearning
# algorithms"), written here by hand so that a default changed in the code, or a docstring showing a value
# the method does not use, fails. Ranges are the paper's search ranges.
SHARED = {"batch_size": 256, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "constant"}
PAPER = {
    "retrain": {"epochs": 30, "lr": 0.1, "schedule": "cosine", "batch_size": 256, "momentum": 0.9,
                "weight_decay": 5e-4},
    "finetune": {**SHARED, "epochs": 10, "lr": 0.01},
    "l1_sparse": {**SHARED, "epochs": 10, "lr": 0.01, "alpha": (5e-4, 0.2)},
    "neggrad": {**SHARED, "epochs": 5, "lr": 1e-4},
    "neggrad_plus": {**SHARED, "epochs": 5, "lr": 0.01, "alpha": (0.95, 0.99)},
    "random_label": {**SHARED, "epochs": 10, "lr": 0.1, "relabel": "epoch"},
    "salun": {**SHARED, "epochs": 10, "lr": 0.1, "mask_ratio": 0.5, "selection": "largest", "relabel": "epoch"},
    "scrub": {**SHARED, "epochs": 5, "lr": 5e-3, "msteps": (2, 4), "temperature": 4.0},
    "influence": {"alpha": (0.0, float("inf"))},
    "identity": {},
}


def _help(name: str) -> str:
    """What ``help(unlearners.make(name))`` prints, without the pager's margin."""
    text = pydoc.render_doc(unlearners.make(name), renderer=pydoc.plaintext)
    return "\n".join(line[4:] if line.startswith(" |  ") else line.removeprefix(" |") for line in text.splitlines())


def _section(text: str, heading: str) -> list[str]:
    """The indented lines under ``heading`` up to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(line)
    return out


def _documented_defaults(text: str) -> dict:
    """``name -> default`` parsed from the hyperparameter list of a help text (continuation lines skipped)."""
    found = {}
    for line in _section(text, base.HPARAMS_HEADING):
        match = LINE.match(line)
        if match:
            assert match[1] not in found, f"{match[1]} listed twice"
            found[match[1]] = ast.literal_eval(match[2])
    return found


def test_every_method_is_covered_by_the_paper_table():
    """Guards against a new method that this file's table of paper defaults does not check."""
    assert set(PAPER) == set(METHODS)


@pytest.mark.parametrize("name", METHODS)
def test_help_lists_every_hyperparameter_with_the_default_the_method_uses(name):
    """The help text's defaults are the constructor's, value and type (0.01 is not 0.001, 4.0 not '4'), and
    nothing is missing or extra; the class signature lists the same keyword arguments."""
    method = unlearners.make(name)
    documented = _documented_defaults(_help(name))
    assert documented == method.hparams
    assert {k: type(v) for k, v in documented.items()} == {k: type(v) for k, v in method.hparams.items()}
    params = inspect.signature(type(method)).parameters
    assert {k: p.default for k, p in params.items()} == method.hparams
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    if not method.hparams:
        assert _section(_help(name), base.HPARAMS_HEADING) == ["    (none)"]


@pytest.mark.parametrize("name", METHODS)
def test_defaults_are_the_papers(name):
    """The defaults shown (and used) are those of the paper and the authors' README."""
    documented = _documented_defaults(_help(name))
    for key, want in PAPER[name].items():
        if isinstance(want, tuple):
            assert want[0] <= documented[key] <= want[1], (key, documented[key])
        else:
            assert documented[key] == want, key


@pytest.mark.parametrize("name", METHODS)
def test_help_says_what_the_method_does_its_loss_and_its_citation(name):
    text = _help(name)
    described = inspect.getdoc(type(unlearners.make(name))).split("\n\nLoss:")[0]
    assert len(described.split()) >= 10  # a description of the method, not just a title
    loss = " ".join(" ".join(_section(text, "Loss:")).split())
    assert loss == " ".join(type(unlearners.make(name)).loss.split())
    reference = " ".join(" ".join(_section(text, "Reference:")).split())
    assert re.search(r"\((19|20)\d\d\)", reference), reference  # authors (year), title, venue
    assert f"make({name!r}" in text
    for line in _section(text, base.HPARAMS_HEADING):
        match = LINE.match(line)
        if match:
            assert len(match[3].split()) >= 3, line  # a meaning, not an empty label


def test_register_refuses_a_method_that_does_not_document_itself():
    """A method without a loss, a citation, a docstring, or a meaning and a check for each hyperparameter is
    refused, and nothing is registered."""
    before = unlearners.available()

    def method(**attrs):
        namespace = {"__doc__": "A method that does something to a model for this test.", "name": "doc_test",
                     "loss": "minimize nothing", "citation": "Nobody (2024), a test",
                     "defaults": {"epochs": 3, "gain": 1.0}, "hparam_docs": {"epochs": "how many epochs",
                                                                          "gain": "how much gain"},
                     "hparam_checks": {"gain": lambda name, value: value}}
        namespace.update(attrs)
        return type("DocTest", (base.Unlearner,), namespace)

    for bad, match in [({"loss": ""}, "loss"), ({"citation": " "}, "citation"), ({"__doc__": None}, "docstring"),
                       ({"hparam_docs": {"epochs": "how many epochs"}}, "gain"),
                       ({"hparam_docs": {"epochs": "e", "gain": "g", "other": "o"}}, "other"),
                       ({"hparam_checks": {}}, r"without hparam_checks \['gain'\]"),
                       ({"hparam_checks": {"gain": abs, "other": abs}}, "other")]:
        with pytest.raises(TypeError, match=match):
            unlearners.register(method(**bad))
    assert unlearners.available() == before
    # a shared hyperparameter needs no hparam_docs of its own: TRAIN_HPARAM_DOCS describes it
    cls = method(defaults={**base.TRAIN_DEFAULTS, "epochs": 3, "gain": 1.0}, name="doc_test_shared")
    try:
        unlearners.register(cls)
        assert _documented_defaults(inspect.getdoc(cls)) == cls.defaults
        lines = _section(inspect.getdoc(cls), base.HPARAMS_HEADING)
        assert lines[0].startswith("    epochs = 3") and lines[1].startswith("    gain = 1.0")  # own first
    finally:
        base._REGISTRY.pop("doc_test_shared", None)
