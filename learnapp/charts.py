"""Charts as SVG, drawn with pygal on the server: no JavaScript, nothing loaded from the internet.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
lines also differ by dash pattern, and every chart has a table and a CSV beside it.
"""

from __future__ import annotations

import math
from xml.etree import ElementTree

import pygal
from pygal.style import Style

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#000000")
STYLE = Style(background="white", plot_background="white", foreground="#1d2733", foreground_strong="#1d2733",
              foreground_subtle="#d8dee4", colors=OKABE_ITO, font_family="sans-serif",
              label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15)
DASHES = ({}, {"dasharray": "8, 5"}, {"dasharray": "2, 4"}, {"dasharray": "12, 4, 2, 4"})


# A phone draws a chart about 330 px wide: the 820-unit chart at 0.4 has 5 px text. The narrow rendering, served to
# screens up to NARROW_SCREEN px wide (the dashboard's <picture>), is 400 units wide with larger type (about 12 px on
# screen) and at most NARROW_X_LABELS x labels, so they neither shrink nor run into each other.
NARROW_SCREEN = 600
NARROW_X_LABELS = 7
NARROW_STYLE = Style(background="white", plot_background="white", foreground="#1d2733", foreground_strong="#1d2733",
                     foreground_subtle="#d8dee4", colors=OKABE_ITO, font_family="sans-serif",
                     label_font_size=14, major_label_font_size=14, legend_font_size=14, title_font_size=15)


def line_chart(title: str, x_labels: list, series: list[tuple[str, list[float | None]]], *, x_title: str,
               y_title: str = "share", percent: bool = True, narrow: bool = False) -> str:
    """A line chart over shared x labels; each series gets its own colour and dash pattern.

    ``narrow`` draws it for a phone: 400 units wide instead of 820, larger type, one legend entry per line and
    every k-th x label only (each point keeps its place and its gridline).
    """
    labels = [str(x) for x in x_labels]
    if narrow:
        every = max(1, math.ceil(len(labels) / NARROW_X_LABELS))
        size = dict(style=NARROW_STYLE, width=400, height=440, legend_at_bottom_columns=1, truncate_legend=-1,
                    x_labels_major_every=every, show_minor_x_labels=every == 1,
                    x_label_rotation=45 if max(map(len, labels), default=0) > 3 else 0)
    else:
        size = dict(style=STYLE, width=820, height=360, x_label_rotation=0 if len(labels) < 14 else 45)
    chart = pygal.Line(js=[], title=title, x_title=x_title, y_title=y_title,
                       range=(0, 1) if percent else None, show_dots=True, dots_size=3, allow_interruptions=True,
                       legend_at_bottom=True, truncate_label=-1,
                       value_formatter=(lambda v: f"{v * 100:.0f}%") if percent else str, **size)
    chart.x_labels = labels
    for i, (name, values) in enumerate(series):
        chart.add(name, values, stroke_style={"width": 2.5, **DASHES[i % len(DASHES)]})
    return chart.render(is_unicode=True)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


# on a phone the chart is drawn about 330 px wide, 0.4 of its 820 units: its text is enlarged there (to about
# 10 px on screen) from inside the SVG, whose media queries see the width the image is drawn at
CALIBRATION_NARROW = 560
CALIBRATION_LABEL, CALIBRATION_NARROW_LABEL = 16, 28  # the n labels' font size, and when drawn narrow
CALIBRATION_CSS = f"""inline:
.text-overlay text.label {{ font-size: {CALIBRATION_LABEL}px !important; font-weight: 600; }}
@media (max-width: {CALIBRATION_NARROW}px) {{
  .text-overlay text.label {{ font-size: {CALIBRATION_NARROW_LABEL}px !important; }}
  .axis text {{ font-size: 26px !important; }}
  .axis.x text {{ transform: translateY(8px); }}
  .axis text.title {{ font-size: 24px !important; }}
  .axis.x text.title {{ transform: translateY(16px); }}
  .title {{ font-size: 26px !important; }}
  .legends > g {{ transform: scale(1.8); }}
}}
"""


def calibration_chart(bins: list[tuple[float | None, float | None, int]]) -> str:
    """Predicted recall (x) against the share answered right (y), both in percent, with the diagonal of a perfect model.

    Each bin's dot has an area that grows with its number of answers and is labelled with it ("n=437"), so
    a bin built on two answers does not look as solid as one built on hundreds. A label sits beside its dot
    where it covers no other dot or label, with a white halo that hides the gridlines under it.
    """
    chart = pygal.XY(js=[], style=STYLE, width=820, height=460, title="Calibration: predicted recall vs. answers",
                     x_title="predicted recall before the answer (%)", y_title="answered right (%)", range=(0, 1),
                     xrange=(0, 1), legend_at_bottom=True, legend_at_bottom_columns=1, print_labels=True,
                     value_formatter=percent, x_value_formatter=percent, truncate_legend=-1,
                     x_labels=[i / 5 for i in range(6)], y_labels=[i / 5 for i in range(6)],
                     margin_left=70, margin_bottom=55, css=[*pygal.Config.css.value, CALIBRATION_CSS])
    chart.add("perfectly honest model", [(0, 0), (1, 1)], stroke_style={"width": 1.5, **DASHES[1]}, show_dots=False)
    used = [(p, a, n) for p, a, n in bins if n]
    most = max((n for _, _, n in used), default=1)
    chart.add("team: dot size and label n = number of answers",
              [{"value": (p, a), "label": f"n={n}", "node": {"r": dot_radius(n, most)}} for p, a, n in used], stroke=False)
    svg = chart.render_tree()
    _place_labels(svg)
    return ElementTree.tostring(svg, encoding="unicode")


def _place_labels(svg: ElementTree.Element) -> None:
    """Move each n label of the team's dots beside its dot (above, below, right or left, the first place where
    it stays inside the plot and covers no dot and no label placed before), with a white halo.

    The places are worked out for the labels' narrow-screen size; a smaller label anchored at the same point
    covers less, so they hold on a desktop too.
    """
    plot = next(g for g in svg.iter("g") if g.get("class") == "plot")
    background = plot.find("rect")
    width, height = float(background.get("width")), float(background.get("height"))
    dots = [(float(c.get("cx")), float(c.get("cy")), float(c.get("r"))) for c in _team_series(svg, "plot overlay").iter("circle")]
    labels = list(_team_series(svg, "plot text-overlay").iter("text"))
    dot_boxes = [(x - r, y - r, x + r, y + r) for x, y, r in dots]
    placed: list[tuple[float, float, float, float]] = []
    size = CALIBRATION_NARROW_LABEL
    for (x, y, r), label in zip(dots, labels):
        w, h, gap, side = 0.6 * size * len(label.text), 0.75 * size, r + 4, (r + 2) * 0.7
        places = [  # (x, y, text-anchor, dominant-baseline, box): above, below, right, left, then the corners
            (x, y - gap, "middle", "auto", (x - w / 2, y - gap - h, x + w / 2, y - gap)),
            (x, y + gap, "middle", "hanging", (x - w / 2, y + gap, x + w / 2, y + gap + h)),
            (x + gap, y, "start", "central", (x + gap, y - h / 2, x + gap + w, y + h / 2)),
            (x - gap, y, "end", "central", (x - gap - w, y - h / 2, x - gap, y + h / 2)),
            (x + side, y - side, "start", "auto", (x + side, y - side - h, x + side + w, y - side)),
            (x - side, y - side, "end", "auto", (x - side - w, y - side - h, x - side, y - side)),
            (x + side, y + side, "start", "hanging", (x + side, y + side, x + side + w, y + side + h)),
            (x - side, y + side, "end", "hanging", (x - side - w, y + side, x - side, y + side + h)),
        ]
        inside = [p for p in places if p[4][0] >= 0 and p[4][1] >= 0 and p[4][2] <= width and p[4][3] <= height] or places
        lx, ly, anchor, baseline, box = min(inside, key=lambda p: sum(_overlap(p[4], b) for b in placed + dot_boxes))
        placed.append(box)
        label.attrib.update({"x": f"{lx:.1f}", "y": f"{ly:.1f}", "text-anchor": anchor, "dominant-baseline": baseline,
                             "paint-order": "stroke", "stroke": "white", "stroke-width": "5", "stroke-linejoin": "round"})


def _team_series(svg: ElementTree.Element, layer: str) -> ElementTree.Element:
    """The team's series (the second one, after the diagonal) in one layer of pygal's plot."""
    group = next(g for g in svg.iter("g") if g.get("class") == layer)
    return next(g for g in group.iter("g") if g.get("class", "").startswith("series serie-1 "))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """The area two boxes (left, top, right, bottom) share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def dot_radius(n: int, most: int, smallest: float = 2.5, largest: float = 14.0) -> float:
    """A dot's radius for n answers when the largest bin has ``most``: the area beyond the smallest dot grows with n."""
    return smallest + (largest - smallest) * math.sqrt(n / most) if most else smallest
