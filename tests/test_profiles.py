import pytest

from rum_core import profiles, unlearners


def test_default_profile_is_small(monkeypatch):
    monkeypatch.delenv("RUM_PROFILE", raising=False)
    assert profiles.get_profile().name == "small"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("RUM_PROFILE", "paper")
    p = profiles.get_profile()
    assert (p.name, p.dataset, p.model) == ("paper", "cifar10", "resnet18")


def test_unknown_profile_lists_valid(monkeypatch):
    monkeypatch.setenv("RUM_PROFILE", "huge")
    with pytest.raises(ValueError, match="smoke"):
        profiles.get_profile()


def test_method_hparams_are_valid_for_every_method():
    for name in profiles.PROFILES:
        p = profiles.get_profile(name)
        assert p.method_hparams("retrain") == p.train.as_dict()  # retrain = the original recipe
        for method in unlearners.available():
            unlearners.make(method, **p.method_hparams(method))


def test_banner_names_version_and_profile():
    from rum_core import __version__

    text = profiles.banner(profiles.get_profile("smoke"))
    assert __version__ in text and "smoke" in text


def test_memorization_model_count_names_the_way_out():
    """Guards against chapters failing deep inside arithmetic on None at the paper profile."""
    assert profiles.get_profile("small").memorization_model_count() == 1000
    with pytest.raises(ValueError, match=r"'paper' trains no memorization models.*memorization_models=64"):
        profiles.get_profile("paper").memorization_model_count()
    assert profiles.get_profile("paper", memorization_models=64).memorization_model_count() == 64
