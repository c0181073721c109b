"""Every preset against its published figures."""

from __future__ import annotations

import pytest

from explorer.core.analysis import analyze
from explorer.core.presets import FAMILIES, PRESET_NAMES, UnknownPresetError, preset, presets_in

# torchvision's weights metadata (num_params, _ops in GFLOPS, which are multiply-adds).
TORCHVISION_PUBLISHED = {
    "torchvision/resnet18": (11_689_512, 1.814),
    "torchvision/resnet34": (21_797_672, 3.664),
    "torchvision/resnet50": (25_557_032, 4.089),
    "torchvision/resnet101": (44_549_160, 7.801),
    "torchvision/resnet152": (60_192_808, 11.514),
    "torchvision/resnext50_32x4d": (25_028_904, 4.23),
    "torchvision/resnext101_32x8d": (88_791_336, 16.414),
    "torchvision/wide_resnet50_2": (68_883_240, 11.398),
    "torchvision/wide_resnet101_2": (126_886_696, 22.753),
}

# He et al. 2015 (arXiv:1512.03385), Table 6: parameters of the CIFAR-10 networks, in millions.
CIFAR_PAPER_MILLIONS = {
    "cifar/resnet20": (0.27, 2),
    "cifar/resnet32": (0.46, 2),
    "cifar/resnet44": (0.66, 2),
    "cifar/resnet56": (0.85, 2),
    "cifar/resnet110": (1.7, 1),
    "cifar/resnet1202": (19.4, 1),
}

# torchsummary 1.5.1 on the notebook's models (REFERENCE.md and the notebook's own output).
NOTEBOOK_PARAMS = {"resnet18": 11_168_832, "resnet50": 23_500_352}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PUBLISHED))
def test_torchvision_presets_match_published_params_and_macs(name: str) -> None:
    params, gmacs = TORCHVISION_PUBLISHED[name]
    totals = analyze(preset(name)).totals
    assert totals.total_params == params
    assert totals.macs / 1e9 == pytest.approx(gmacs, rel=0.005)
    assert totals.output_shape == (1000,)


@pytest.mark.parametrize("name", sorted(CIFAR_PAPER_MILLIONS))
def test_cifar_presets_round_to_the_paper(name: str) -> None:
    millions, digits = CIFAR_PAPER_MILLIONS[name]
    spec = preset(name)
    assert round(analyze(spec).totals.total_params / 1e6, digits) == millions
    assert analyze(spec).totals.depth == int(name.split("resnet")[1])


@pytest.mark.parametrize("name", sorted(NOTEBOOK_PARAMS))
def test_notebook_presets_match_torchsummary_totals(name: str) -> None:
    assert analyze(preset(name)).totals.total_params == NOTEBOOK_PARAMS[name]


def test_notebook_resnet50_at_224_starts_like_the_notebook_output() -> None:
    from dataclasses import replace

    spec = replace(preset("resnet50"), input_size=(224, 224))
    rows = analyze(spec).summary_rows
    assert analyze(spec).totals.total_params == 23_500_352
    first = [(r.summary_id, r.output_shape, r.params) for r in rows[:3]]
    assert first == [
        ("Conv2d-1", (64, 224, 224), 1_728),
        ("BatchNorm2d-2", (64, 224, 224), 128),
        ("Conv2d-3", (64, 224, 224), 4_096),
    ]
    assert rows[13].summary_id == "BottleneckBlock-14"
    assert rows[13].output_shape == (256, 224, 224)


def test_every_family_has_presets_and_every_preset_a_family() -> None:
    listed = [name for family in FAMILIES for name in presets_in(family.key)]
    assert sorted(listed) == sorted(PRESET_NAMES)
    assert all(presets_in(family.key) for family in FAMILIES)


def test_unknown_preset_suggests_close_names() -> None:
    with pytest.raises(UnknownPresetError) as info:
        preset("resnet05")
    assert "resnet50" in info.value.close_matches
    assert "resnet50" in str(info.value)
