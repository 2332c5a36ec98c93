"""The calibration chart: dots sized by their number of answers, percent on both axes."""

import re

from learnapp.charts import calibration_chart

BINS = [(0.05, None, 0), (0.45, 1.0, 2), (0.75, 0.7, 120), (0.85, 0.84, 437)]


def _dots(svg: str) -> dict[str, float]:
    """The radius of each team dot by its label, in drawing order."""
    radii = [float(r) for r in re.findall(r'<circle [^>]*r="([0-9.]+)" class="dot', svg)]
    labels = re.findall(r'class="label">(n=\d+)', svg)
    return dict(zip(labels, radii))


def test_a_dot_grows_with_its_number_of_answers_and_says_it():
    dots = _dots(calibration_chart(BINS))
    assert list(dots) == ["n=2", "n=120", "n=437"]  # the empty bin is not drawn
    assert dots["n=2"] < dots["n=120"] < dots["n=437"]
    assert dots["n=437"] >= 4 * dots["n=2"]  # before: every dot the same size


def test_both_axes_are_in_percent_and_the_legend_explains_the_dots():
    svg = calibration_chart(BINS)
    ticks = re.findall(r">(\d+(?:\.\d+)?%?)</text>", svg)
    assert ticks.count("50%") == 2 and "0.5" not in ticks  # x and y alike; before: x 0-1, y 0-100%
    assert "predicted recall before the answer (%)" in svg and "answered right (%)" in svg
    assert "dot size and label n = number of answers" in svg


def test_the_dashboard_says_what_the_dot_size_means(content, make_user, auth, client):
    manager = make_user("manager", team="North")
    make_user("rep", team="North")
    auth.login(manager.email)
    page = " ".join(client.get(f"/team/{manager.led_teams[0].id}").get_data(as_text=True).split())
    assert "The bigger the dot, the more answers it stands on" in page
    assert client.get(f"/team/{manager.led_teams[0].id}/chart/calibration.svg").status_code == 200
