"""Charts as SVG, drawn with pygal on the server: no JavaScript, nothing loaded from the internet.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
lines also differ by dash pattern, and every chart has a table and a CSV beside it.
"""

from __future__ import annotations

import math

import pygal
from pygal.style import Style

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#000000")
STYLE = Style(background="white", plot_background="white", foreground="#1d2733", foreground_strong="#1d2733",
              foreground_subtle="#d8dee4", colors=OKABE_ITO, font_family="sans-serif",
              label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15)
DASHES = ({}, {"dasharray": "8, 5"}, {"dasharray": "2, 4"}, {"dasharray": "12, 4, 2, 4"})


def line_chart(title: str, x_labels: list, series: list[tuple[str, list[float | None]]], *, x_title: str,
               y_title: str = "share", percent: bool = True) -> str:
    """A line chart over shared x labels; each series gets its own colour and dash pattern."""
    chart = pygal.Line(js=[], style=STYLE, width=820, height=360, title=title, x_title=x_title, y_title=y_title,
                       range=(0, 1) if percent else None, show_dots=True, dots_size=3, allow_interruptions=True,
                       legend_at_bottom=True, truncate_label=-1, x_label_rotation=0 if len(x_labels) < 14 else 45,
                       value_formatter=(lambda v: f"{v * 100:.0f}%") if percent else str)
    chart.x_labels = [str(x) for x in x_labels]
    for i, (name, values) in enumerate(series):
        chart.add(name, values, stroke_style={"width": 2.5, **DASHES[i % len(DASHES)]})
    return chart.render(is_unicode=True)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def calibration_chart(bins: list[tuple[float | None, float | None, int]]) -> str:
    """Predicted recall (x) against the share answered right (y), both in percent, with the diagonal of a perfect model.

    Each bin's dot has an area that grows with its number of answers and is labelled with it ("n=437"), so
    a bin built on two answers does not look as solid as one built on hundreds.
    """
    chart = pygal.XY(js=[], style=STYLE, width=820, height=360, title="Calibration: predicted recall vs. answers",
                     x_title="predicted recall before the answer (%)", y_title="answered right (%)", range=(0, 1),
                     xrange=(0, 1), legend_at_bottom=True, print_labels=True, value_formatter=percent,
                     x_value_formatter=percent, truncate_legend=-1)
    chart.add("perfectly honest model", [(0, 0), (1, 1)], stroke_style={"width": 1.5, **DASHES[1]}, show_dots=False)
    used = [(p, a, n) for p, a, n in bins if n]
    most = max((n for _, _, n in used), default=1)
    chart.add("team: dot size and label n = number of answers",
              [{"value": (p, a), "label": f"n={n}", "node": {"r": dot_radius(n, most)}} for p, a, n in used], stroke=False)
    return chart.render(is_unicode=True)


def dot_radius(n: int, most: int, smallest: float = 2.5, largest: float = 14.0) -> float:
    """A dot's radius for n answers when the largest bin has ``most``: the area beyond the smallest dot grows with n."""
    return smallest + (largest - smallest) * math.sqrt(n / most) if most else smallest
