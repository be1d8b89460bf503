"""Geometry of the small server-rendered SVG charts (bars, lines, a gauge) used by the pages.

Each function turns plain numbers into the coordinates a template in ``templates/charts/`` draws;
coordinates are returned as strings with a dot decimal separator, so a localised template (where
``{{ 0.5 }}`` would print ``0,5`` in Indonesian) can never break an SVG attribute. Labels and titles
are passed in already worded and formatted by the caller; axis ticks are written in the active
language by :func:`count_tick`, :func:`decimal_tick` or :func:`percent_tick` (``0,2`` and ``3.000`` in
Indonesian). No JavaScript and no style attributes: colours come from CSS classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format

from nplsite.numbers import decimal_text

WIDTH = 640
HEIGHT = 240
MARGIN_TOP = 14
MARGIN_RIGHT = 14
MARGIN_BOTTOM = 40
MARGIN_LEFT = 52


# Width of one character of a tick label in viewBox units (the ticks' CSS font size is 11 px, and a
# chart is drawn at about its viewBox width), used to keep x labels from running into each other.
TICK_CHARACTER_WIDTH = 7.0
TICK_LABEL_GAP = 12.0


def _f(value: float) -> str:
    return f"{value:.1f}"


def count_tick(value: float) -> str:
    """A whole number with the active language's thousands separator: ``3,000`` / ``3.000``."""
    return number_format(round(value), decimal_pos=0, force_grouping=True)


def decimal_tick(value: float) -> str:
    """One decimal in the active language's notation: ``0.2`` / ``0,2``."""
    return decimal_text(value, 1)


def percent_tick(value: float) -> str:
    """A share as a whole percentage: ``24 %``."""
    return f"{count_tick(value * 100)} %"


@dataclass(frozen=True)
class Bar:
    value: float
    label: str = ""
    title: str = ""
    css: str = ""
    # The value as text, written on the bar when it is taller than the axis and cut at the top (which
    # is then marked with a break), so that a cut bar never reads as the axis' top value.
    value_label: str = ""


@dataclass(frozen=True)
class ReferenceLine:
    """A horizontal line across the plot at ``value``, labelled; ``css`` picks its colour (e.g.
    ``chart-reference-watch``; the default colour is the danger one)."""

    value: float
    label: str
    css: str = ""


# How far x labels are turned when ``rotate_x_labels`` (long names under narrow bars), and the
# room below the plot they take per character.
X_LABEL_ANGLE = -35
ROTATED_LABEL_DROP_PER_CHARACTER = TICK_CHARACTER_WIDTH * 0.58  # sin(35°)


def nice_maximum(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (an axis top that reads well)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value - 1e-12:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _plot_box(width: int, height: int) -> tuple[float, float, float, float]:
    return MARGIN_LEFT, MARGIN_TOP, width - MARGIN_RIGHT, height - MARGIN_BOTTOM


def bar_chart(
    bars: Sequence[Bar],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    y_max: float | None = None,
    y_tick_count: int = 4,
    y_tick_format=count_tick,
    max_x_labels: int = 12,
    reference_lines: Sequence[ReferenceLine] = (),
    integer_ticks: bool = False,
    rotate_x_labels: bool = False,
) -> dict:
    """Vertical bars, one per item, with a y axis starting at 0 and optional horizontal reference lines.

    ``integer_ticks``: the values are counts, so every tick is a whole number (the axis top is at
    least 4, with five ticks when it divides by five, else four). ``rotate_x_labels``: every bar's
    label is written, turned, under it (names rather than numbers); the chart grows downwards to
    hold them and the plot keeps its size. A bar above ``y_max`` is cut at the top, marked with a
    break and its ``value_label`` written on it."""
    longest_label = max((len(bar.label) for bar in bars), default=0)
    plot_bottom = _plot_box(width, height)[3]
    if rotate_x_labels:
        height += math.ceil(longest_label * ROTATED_LABEL_DROP_PER_CHARACTER)
    left, top, right, _ = _plot_box(width, height)
    bottom = plot_bottom
    largest = max([bar.value for bar in bars] + [line.value for line in reference_lines] + [0.0])
    top_value = y_max if y_max is not None else nice_maximum(largest)
    if integer_ticks:
        top_value = float(max(4, math.ceil(top_value)))
        if top_value % 5 and top_value % 4:
            top_value = float(math.ceil(top_value / 5) * 5)
        y_tick_count = 5 if top_value % 5 == 0 else 4
    plot_width = right - left
    slot = plot_width / max(len(bars), 1)
    gap = min(slot * 0.2, 6.0) if len(bars) > 1 else slot * 0.3

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(max(value, 0.0), top_value) / top_value

    # Every n-th bar is labelled: at most max_x_labels, and never so many that the labels touch
    # (turned labels are one line high side by side, so every bar has room for its own).
    label_every = (
        1
        if rotate_x_labels
        else max(
            1,
            math.ceil(len(bars) / max_x_labels),
            math.ceil((longest_label * TICK_CHARACTER_WIDTH + TICK_LABEL_GAP) / slot),
        )
    )
    drawn = []
    for index, bar in enumerate(bars):
        x = left + index * slot + gap / 2
        y = y_of(bar.value)
        drawn.append(
            {
                "x": _f(x),
                "y": _f(y),
                "width": _f(max(slot - gap, 1.0)),
                "height": _f(max(bottom - y, 0.0 if bar.value <= 0 else 1.0)),
                "label": bar.label,
                "title": bar.title or bar.label,
                "css": bar.css,
                "label_x": _f(left + (index + 0.5) * slot),
                "show_label": bool(bar.label) and index % label_every == 0,  # a bar may have no label (a pair's second)
                "clipped": bar.value > top_value,
                "value_label": bar.value_label,
                "break_y": _f(top + 8),
                "value_label_y": _f(top + 24),
            }
        )
    ticks = [
        {"y": _f(y_of(top_value * i / y_tick_count)), "label": y_tick_format(top_value * i / y_tick_count)}
        for i in range(y_tick_count + 1)
    ]
    references = [
        {
            "y": _f(y_of(line.value)),
            "label": line.label,
            "css": line.css,
            "label_x": _f(left + 4),
            "label_y": _f(y_of(line.value) - 4),
        }
        for line in reference_lines
        if line.value <= top_value
    ]
    return {
        "width": width,
        "height": height,
        "left": _f(left),
        "right": _f(right),
        "top": _f(top),
        "bottom": _f(bottom),
        "label_y": _f(bottom + 16),
        "x_label_angle": X_LABEL_ANGLE if rotate_x_labels else None,
        "bars": drawn,
        "y_ticks": ticks,
        "references": references,
    }


@dataclass(frozen=True)
class Series:
    points: Sequence[tuple[float, float]]
    label: str
    css: str = ""
    markers: bool = False


def line_chart(
    series: Sequence[Series],
    *,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
    width: int = 360,
    height: int = 300,
    tick_count: int = 5,
    tick_format=decimal_tick,
    diagonal: bool = False,
) -> dict:
    """Lines (and optional point markers) on linear x and y axes, with an optional y = x diagonal."""
    left, top, right, bottom = _plot_box(width, height)
    (x_low, x_high), (y_low, y_high) = x_range, y_range

    def position(x: float, y: float) -> tuple[float, float]:
        px = left + (right - left) * (min(max(x, x_low), x_high) - x_low) / (x_high - x_low)
        py = bottom - (bottom - top) * (min(max(y, y_low), y_high) - y_low) / (y_high - y_low)
        return px, py

    drawn = []
    for line in series:
        coordinates = [position(x, y) for x, y in line.points]
        drawn.append(
            {
                "label": line.label,
                "css": line.css,
                "points": " ".join(f"{_f(x)},{_f(y)}" for x, y in coordinates),
                "markers": [{"cx": _f(x), "cy": _f(y)} for x, y in coordinates] if line.markers else [],
            }
        )
    x_ticks, y_ticks = [], []
    for i in range(tick_count + 1):
        x_value = x_low + (x_high - x_low) * i / tick_count
        y_value = y_low + (y_high - y_low) * i / tick_count
        x_ticks.append({"x": _f(position(x_value, y_low)[0]), "label": tick_format(x_value)})
        y_ticks.append({"y": _f(position(x_low, y_value)[1]), "label": tick_format(y_value)})
    result = {
        "width": width,
        "height": height,
        "left": _f(left),
        "right": _f(right),
        "top": _f(top),
        "bottom": _f(bottom),
        "label_y": _f(bottom + 16),
        "series": drawn,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "x_title_x": _f((left + right) / 2),
        "x_title_y": _f(height - 4),
        "y_title_x": _f(12),
        "y_title_y": _f((top + bottom) / 2),
        "diagonal": None,
    }
    if diagonal:
        x1, y1 = position(max(x_low, y_low), max(x_low, y_low))
        x2, y2 = position(min(x_high, y_high), min(x_high, y_high))
        result["diagonal"] = {"x1": _f(x1), "y1": _f(y1), "x2": _f(x2), "y2": _f(y2)}
    return result


def gauge(probability: float, threshold: float | None = None, *, radius: float = 80.0) -> dict:
    """A half-circle gauge from 0 (left) to 1 (right): the track, the filled arc up to ``probability``,
    and a tick at ``threshold``."""
    cx, cy = 100.0, 100.0
    probability = min(max(float(probability), 0.0), 1.0)

    def point(fraction: float, r: float = radius) -> tuple[float, float]:
        angle = math.pi * (1.0 - fraction)
        return cx + r * math.cos(angle), cy - r * math.sin(angle)

    start_x, start_y = point(0.0)
    end_x, end_y = point(1.0)
    value_x, value_y = point(probability)
    result = {
        "track": f"M {_f(start_x)} {_f(start_y)} A {_f(radius)} {_f(radius)} 0 0 1 {_f(end_x)} {_f(end_y)}",
        "value": (
            f"M {_f(start_x)} {_f(start_y)} A {_f(radius)} {_f(radius)} 0 0 1 {_f(value_x)} {_f(value_y)}"
            if probability > 0.0005
            else ""
        ),
        "threshold": None,
    }
    if threshold is not None:
        inner_x, inner_y = point(float(threshold), radius - 16)
        outer_x, outer_y = point(float(threshold), radius + 10)
        result["threshold"] = {"x1": _f(inner_x), "y1": _f(inner_y), "x2": _f(outer_x), "y2": _f(outer_y)}
    return result
