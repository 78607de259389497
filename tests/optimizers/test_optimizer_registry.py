"""optimizers.get / serialize / deserialize (the package's __init__)."""

import re

import pytest

from rnnkit import optimizers


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("adam", optimizers.Adam),
        ("SGD", optimizers.SGD),
        ("RMSProp", optimizers.RMSprop),
        ("adagrad", optimizers.Adagrad),
        ("AdamW", optimizers.AdamW),
        ("nadam", optimizers.Nadam),
    ],
)
def test_get_resolves_names_case_insensitively(identifier, expected):
    assert type(optimizers.get(identifier)) is expected


def test_get_passes_instances_and_dicts():
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert from_dict.learning_rate == 0.5


def test_get_rejects_unknown_with_hint():
    with pytest.raises(ValueError, match=re.escape("unknown optimizer 'adm'")) as info:
        optimizers.get("adm")
    assert "Did you mean 'adam'?" in str(info.value)
    with pytest.raises(TypeError, match="expected an optimizer name"):
        optimizers.get(3)


def test_package_exports_the_old_public_api():
    assert set(optimizers.__all__) == {
        "SGD",
        "Adagrad",
        "Adam",
        "AdamW",
        "Adamax",
        "Nadam",
        "Optimizer",
        "RMSprop",
        "deserialize",
        "get",
        "schedules",
        "serialize",
    }
    assert all(hasattr(optimizers, name) for name in optimizers.__all__)
