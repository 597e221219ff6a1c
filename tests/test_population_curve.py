"""PopulationCurve: exact CSV round trip, van 't Hoff fits of exact sigmoids, refused inputs,
and the melting-curve figure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from thermogen.analysis import van_t_hoff
from thermogen.analysis.populations import PopulationCurve, curve_columns
from thermogen.errors import InputError, UsageError
from thermogen.report.figures import METHOD_STYLE, plot_melting_curve, save_figure
from thermogen.units import KB_KJ_PER_MOL_K

TEMPS = np.linspace(0.6, 1.8, 9)
TM, DH = 1.1, 8.0  # reduced units: Tm and dH / k_B


def sigmoid_curve(
    temperature: np.ndarray = TEMPS,
    tm: float = TM,
    dh: float = DH,
    gas_constant: float = 1.0,
    half_width: float = 0.02,
    unit: str = "reduced",
) -> PopulationCurve:
    """Two states: state 0 folded with an exact van 't Hoff population, state 1 the rest."""
    folded = van_t_hoff(temperature, tm, dh, gas_constant)
    population = np.column_stack([folded, 1 - folded])
    return PopulationCurve(
        temperature,
        population,
        np.clip(population - half_width, 0, 1),
        np.clip(population + half_width, 0, 1),
        confidence=0.95,
        temperature_unit=unit,
    )


def three_state_curve() -> PopulationCurve:
    rng = np.random.default_rng(4)
    population = rng.dirichlet(np.ones(3), size=5)
    spread = rng.uniform(0, 0.1, size=(5, 3))
    return PopulationCurve(
        np.geomspace(280.0, 400.0, 5),
        population,
        np.clip(population - spread, 0, 1),
        np.clip(population + spread, 0, 1),
        confidence=0.9,
        temperature_unit="K",
    )


def test_csv_round_trip_is_exact_with_the_documented_columns(tmp_path):
    curve = three_state_curve()
    path = curve.write_csv(tmp_path / "populations.csv")
    header = path.read_text().splitlines()[0]
    assert header == (
        "temperature,state_0,state_0_lo,state_0_hi,state_1,state_1_lo,state_1_hi,"
        "state_2,state_2_lo,state_2_hi"
    )
    assert header.split(",") == curve_columns(3)
    back = PopulationCurve.read_csv(path, confidence=0.9, temperature_unit="K")
    for name in ("temperature", "population", "low", "high"):
        np.testing.assert_array_equal(getattr(back, name), getattr(curve, name))
    assert (back.confidence, back.temperature_unit, back.n_states) == (0.9, "K", 3)
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file


def test_arrays_are_read_only_copies():
    population = np.array([[0.7, 0.3], [0.4, 0.6]])
    curve = PopulationCurve(np.array([1.0, 2.0]), population, population, population)
    population[0, 0] = 0.0
    assert curve.population[0, 0] == 0.7
    with pytest.raises(ValueError, match="read-only"):
        curve.population[0, 0] = 0.5


def test_van_t_hoff_recovers_tm_and_dh_of_an_exact_curve():
    curve = sigmoid_curve()
    assert curve.default_folded_state() == 0
    fit = curve.van_t_hoff(0, seed=1, n_boot=50)
    assert fit.tm == pytest.approx(TM, rel=1e-6)
    assert fit.dh == pytest.approx(DH, rel=1e-6)
    assert fit.tm_interval[0] < TM < fit.tm_interval[1]
    assert fit.confidence == 0.95 and fit.temperature_unit == "reduced"
    rising = curve.van_t_hoff(1, n_boot=50)  # the unfolded state melts "backwards"
    assert rising.tm == pytest.approx(TM, rel=1e-6) and rising.dh == pytest.approx(-DH, rel=1e-6)


def test_van_t_hoff_in_kelvin_gives_dh_in_kj_per_mol():
    temps = np.linspace(290.0, 370.0, 11)
    curve = sigmoid_curve(temps, tm=330.0, dh=150.0, gas_constant=KB_KJ_PER_MOL_K, unit="K")
    fit = curve.van_t_hoff(0, n_boot=50)
    assert fit.tm == pytest.approx(330.0, rel=1e-6) and fit.dh == pytest.approx(150.0, rel=1e-6)
    assert fit.gas_constant == KB_KJ_PER_MOL_K


def test_zero_width_intervals_are_floored_so_the_fit_still_runs():
    curve = sigmoid_curve(half_width=0.0)
    fit = curve.van_t_hoff(0, n_boot=50)
    assert fit.tm == pytest.approx(TM, rel=1e-6)
    assert fit.tm_interval[1] - fit.tm_interval[0] < 0.01  # sigma 1e-3: a tight interval


def test_wider_intervals_give_a_wider_tm_interval():
    def width(curve: PopulationCurve) -> float:
        low, high = curve.van_t_hoff(0, seed=0, n_boot=200).tm_interval
        return high - low

    assert width(sigmoid_curve(half_width=0.1)) > 3 * width(sigmoid_curve(half_width=0.02))


@pytest.mark.parametrize("state", [2, -1, 7, True, 1.0, "0"])
def test_a_state_that_does_not_exist_is_refused(state):
    with pytest.raises(UsageError, match="state"):
        sigmoid_curve().van_t_hoff(state)


def test_a_curve_without_a_transition_cannot_be_fitted():
    curve = sigmoid_curve(np.linspace(0.3, 0.5, 5))
    with pytest.raises(ValueError, match=r"never crosses 0\.5"):
        curve.van_t_hoff(0, n_boot=20)


def _modified(**arrays: np.ndarray) -> Callable[[], PopulationCurve]:
    def build() -> PopulationCurve:
        good = sigmoid_curve()
        fields = {
            name: getattr(good, name) for name in ("temperature", "population", "low", "high")
        }
        return PopulationCurve(**{**fields, **arrays})

    return build


ROWS = sigmoid_curve().population
BAD_CURVES = {
    "decreasing temperature": (_modified(temperature=TEMPS[::-1]), "strictly increasing"),
    "negative temperature": (_modified(temperature=TEMPS - 1), "positive"),
    "rows not summing to 1": (_modified(population=ROWS * 0.9), "sum to"),
    "probability above 1": (_modified(high=ROWS + 0.5), "not a probability"),
    "NaN": (_modified(low=np.where(ROWS > 0.5, np.nan, ROWS)), "not a probability"),
    "low above high": (_modified(low=np.minimum(ROWS + 0.01, 1), high=ROWS), "is empty"),
    "one-dimensional population": (_modified(population=ROWS[:, 0]), "shape"),
    "wrong number of rows": (_modified(low=ROWS[:-1]), "shape"),
}


@pytest.mark.parametrize(("build", "fragment"), BAD_CURVES.values(), ids=BAD_CURVES.keys())
def test_inconsistent_arrays_are_refused(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [({"confidence": 1.0}, "confidence"), ({"temperature_unit": "C"}, "temperature_unit")],
)
def test_bad_confidence_or_unit_is_refused(changes, fragment):
    curve = sigmoid_curve()
    with pytest.raises(ValueError, match=fragment):
        PopulationCurve(curve.temperature, curve.population, curve.low, curve.high, **changes)


def _csv(text: str) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        path = tmp_path / "populations.csv"
        path.write_text(text)
        return path

    return build


HEADER = "temperature,state_0,state_0_lo,state_0_hi,state_1,state_1_lo,state_1_hi\n"
ROW_1 = "1.0,0.6,0.5,0.7,0.4,0.3,0.5\n"
ROW_2 = "2.0,0.3,0.2,0.4,0.7,0.6,0.8\n"
BAD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "nowhere.csv", None, "does not exist"),
    "empty": (_csv(""), None, "is empty"),
    "header only": (_csv(HEADER), None, "no rows"),
    "misnamed column": (
        _csv(HEADER.replace("state_0_lo", "state_0_low") + ROW_1),
        "state_0_lo",
        "found 'state_0_low'",
    ),
    "missing column": (
        _csv(HEADER.replace(",state_1_hi", "") + "1.0,0.6,0.5,0.7,0.4,0.3\n"),
        "state_1_hi",
        "is missing",
    ),
    "no temperature": (
        _csv(HEADER.replace("temperature", "T") + ROW_1),
        "temperature",
        "found 'T'",
    ),
    "short row": (_csv(HEADER + ROW_1 + "2.0,0.3\n"), None, "line 3 has 2 values"),
    "not a number": (
        _csv(HEADER + ROW_1 + ROW_2.replace("0.7", "abc")),
        "state_1",
        "line 3: 'abc'",
    ),
    "rows not summing to 1": (_csv(HEADER + ROW_1.replace("0.4", "0.9", 1)), None, "sum to 1.5"),
    "above 1": (
        _csv(HEADER + ROW_1 + ROW_2.replace("0.8", "1.8")),
        "state_1_hi",
        "not a probability",
    ),
    "unordered temperatures": (_csv(HEADER + ROW_2 + ROW_1), "temperature", "strictly increasing"),
}


@pytest.mark.parametrize(("build", "field", "fragment"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_csv_files_give_one_line_naming_file_and_column(tmp_path, build, field, fragment):
    path = build(tmp_path)
    with pytest.raises(InputError) as caught:
        PopulationCurve.read_csv(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)) and fragment in message
    assert caught.value.field == field


def test_hand_written_file_with_spaces_and_blank_lines_is_read(tmp_path):
    path = _csv(HEADER.replace(",", ", ") + "\n" + ROW_1 + ROW_2 + "\n")(tmp_path)
    curve = PopulationCurve.read_csv(path, temperature_unit="reduced")
    np.testing.assert_array_equal(curve.temperature, [1.0, 2.0])
    np.testing.assert_array_equal(curve.high[:, 1], [0.5, 0.8])


def test_melting_figure_has_labels_band_fit_and_exact_curve(tmp_path):
    curve = sigmoid_curve(half_width=0.05)
    fit = curve.van_t_hoff(0, n_boot=50)
    dense = np.linspace(0.6, 1.8, 50)
    figure = plot_melting_curve(curve, 0, fit, exact=(dense, van_t_hoff(dense, TM, DH, 1.0)))
    ax = figure.axes[0]
    assert ax.get_xlabel() == "T (reduced units)" and ax.get_ylabel() == "population of state 0"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[:2] == ["95% interval", "LaTF"]
    assert "exact" in labels and "van 't Hoff fit" in labels
    assert any(label.startswith("Tm = 1.1 [") for label in labels)
    exact_line = next(line for line in ax.get_lines() if line.get_label() == "exact")
    assert exact_line.get_color() == METHOD_STYLE["exact"]["color"]
    path = save_figure(figure, tmp_path / "melting.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_melting_figure_without_fit_in_kelvin_and_bad_state():
    curve = three_state_curve()
    ax = plot_melting_curve(curve, 2).axes[0]
    assert ax.get_xlabel() == "T (K)" and ax.get_ylabel() == "population of state 2"
    with pytest.raises(UsageError, match="state 3 does not exist"):
        plot_melting_curve(curve, 3)
