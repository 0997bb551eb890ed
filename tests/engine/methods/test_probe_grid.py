"""The probe's grid and prompts, and its settings: the conformal report's ages by default, bad values named."""

from __future__ import annotations

import pytest

from engine.core.settings import Settings
from engine.methods.probe.faces import probe_grid

pytestmark = pytest.mark.unit


def test_the_default_grid_is_the_reports_ages_for_every_gender_and_ethnicity():
    settings = Settings()
    assert settings.probe_ages == (1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100)
    cells = probe_grid(settings.probe_ages, settings.probe_genders, settings.probe_ethnicities, 2)
    assert len(cells) == 21 * 2 * 4 * 2 and len({cell.name for cell in cells}) == len(cells)
    assert [cell.age for cell in cells] == sorted(cell.age for cell in cells)  # ages first, as the table reads
    first = cells[0]
    assert first.name == "age001_female_white_s0"
    assert "a 1 year old White female" in first.prompt and "solo portrait" in first.prompt and "one person" in first.prompt


def test_probe_settings_come_from_the_environment_and_bad_ones_are_named(monkeypatch):
    monkeypatch.setenv("HUB_PROBE_AGES", "10, 60")
    monkeypatch.setenv("HUB_PROBE_GENDERS", "male")
    monkeypatch.setenv("HUB_PROBE_ETHNICITIES", "Asian,Indian")
    monkeypatch.setenv("HUB_PROBE_SEEDS", "3")
    settings = Settings.from_env()
    assert (settings.probe_ages, settings.probe_genders, settings.probe_ethnicities, settings.probe_seeds) == (
        (10, 60),
        ("male",),
        ("Asian", "Indian"),
        3,
    )
    monkeypatch.setenv("HUB_PROBE_AGES", "ten")
    with pytest.raises(ValueError, match="HUB_PROBE_AGES must be whole ages separated by commas such as 1,5,10, got 'ten'"):
        Settings.from_env()
    with pytest.raises(ValueError, match="HUB_PROBE_AGES must be ages from 0 to 120, got \\(150,\\)"):
        Settings(probe_ages=(150,))
    with pytest.raises(ValueError, match="HUB_PROBE_GENDERS must be among female, male, got \\('woman',\\)"):
        Settings(probe_genders=("woman",))
    with pytest.raises(ValueError, match="HUB_PROBE_SEEDS must be at least 1 face per cell, got 0"):
        Settings(probe_seeds=0)
