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
    assert ticks.count("60%") == 2 and "0.6" not in ticks  # x and y alike; before: x 0-1, y 0-100%
    assert "predicted recall before the answer (%)" in svg and "answered right (%)" in svg
    assert "dot size and label n = number of answers" in svg


def test_the_dashboard_says_what_the_dot_size_means(content, make_user, auth, client):
    manager = make_user("manager", team="North")
    make_user("rep", team="North")
    auth.login(manager.email)
    page = " ".join(client.get(f"/team/{manager.led_teams[0].id}").get_data(as_text=True).split())
    assert "The bigger the dot, the more answers it stands on" in page
    assert client.get(f"/team/{manager.led_teams[0].id}/chart/calibration.svg").status_code == 200


CROWDED = [(0.35, 0.5, 2), (0.45, 0.55, 9), (0.55, 0.62, 40), (0.65, 0.6, 20), (0.75, 0.7, 99), (0.85, 0.82, 176),
           (0.95, 0.9, 437)]  # the review's chart: labels on the gridlines, n=437 ran into the n=176 dot


def _label_boxes(svg: str, size: float) -> dict[str, tuple[float, float, float, float]]:
    """Each n label's box (left, top, right, bottom) at a font size, from its anchor point, text-anchor and baseline."""
    boxes = {}
    for attrs, text in re.findall(r'<text ([^>]*class="label"[^>]*)>(n=\d+)</text>', svg):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        x, y, w, h = float(a["x"]), float(a["y"]), 0.55 * size * len(text), 0.7 * size
        left = {"start": x, "middle": x - w / 2, "end": x - w}[a.get("text-anchor", "start")]
        top = {"auto": y - h, "hanging": y, "central": y - h / 2}[a.get("dominant-baseline", "auto")]
        boxes[text] = (left, top, left + w, top + h)
    return boxes


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_n_labels_sit_clear_of_every_dot_and_label_with_a_halo_over_the_gridlines():
    svg = calibration_chart(CROWDED)
    dots = [(float(x), float(y), float(r)) for x, y, r in
            re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)" r="([0-9.]+)" class="dot', svg)]
    narrow = float(re.search(r"@media \(max-width:\s*\d+px\)\s*\{\s*\.text-overlay text\.label\s*\{\s*font-size:\s*(\d+)px", svg)[1])
    for size in (16, narrow):  # the desktop size and the phone size
        boxes = _label_boxes(svg, size)
        assert len(boxes) == len(CROWDED)
        for name, box in boxes.items():
            assert not any(_overlap(box, other) for other_name, other in boxes.items() if other_name != name), (size, name)
            assert not any(_overlap(box, (x - r, y - r, x + r, y + r)) for x, y, r in dots), (size, name)
    labels = re.findall(r'<text [^>]*class="label"[^>]*>', svg)
    assert all('paint-order="stroke"' in t and 'stroke="white"' in t for t in labels)  # gridlines stop at the text


def test_the_chart_text_stays_legible_on_a_phone():
    """On a 390 px phone the 820-unit chart is drawn about 330 px wide: 12-unit text became about 5 px."""
    svg = calibration_chart(CROWDED)
    width = float(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1])
    query = re.search(r"@media \(max-width:\s*(\d+)px\)\s*\{(.*?)\}\s*\}", svg, re.S)
    assert int(query[1]) >= 330
    sizes = dict(re.findall(r"(\.text-overlay text\.label|\.axis text)\s*\{\s*font-size:\s*(\d+)px", query[2]))
    for rule in (".text-overlay text.label", ".axis text"):  # the n labels and the axis ticks
        assert float(sizes[rule]) * 330 / width >= 10, rule
