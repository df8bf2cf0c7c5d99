"""The report's charts as PNG bytes, and the generic bar and line charts the dashboard reuses.

Why this way: each chart is its own `matplotlib.figure.Figure` drawn on an Agg canvas (no pyplot, no global
state), so charts can be drawn from several threads at once; every text gets the CJK font from fonts.py, so
Chinese labels never come out as boxes. The palette is Okabe–Ito (told apart with any colour vision); the
size fits the width of an A4 page and of a web page at 150 dpi.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator, PercentFormatter

from service.locale import Translator
from service.reports.display import is_final, phase_name, text_columns
from service.reports.figures import Figures, TrendPoint
from service.reports.fonts import chart_font

DPI = 150
WIDTH_IN = 7.0  # 1050 px: an A4 text width at 150 dpi
HEIGHT_IN = 3.0
PALETTE = ("#0072B2", "#E69F00", "#56B4E9", "#D55E00", "#009E73", "#CC79A7", "#F0E442")
LINE_COLOUR = "#222222"  # the rate line, apart from every bar colour
GRID = "#DDDDDD"
LABEL_WIDTH = 24  # a category label wraps at this many columns (a Chinese character takes two)
MAX_LABELLED_BARS = 40  # more bars than this are not labelled with their values

Values = Sequence[float | None]


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    horizontal: bool = False,
    value_axis: str = "",
    line: Mapping[str, Values] | None = None,
    line_axis: str = "",
    line_percent: bool = True,
    empty: str = "",
) -> bytes:
    """Grouped bars, one group per label and one bar per series (vertical, or horizontal for long names).

    `line` (vertical only) draws a line per entry on a second axis, e.g. the rectification rate over the weeks
    (fractions shown as percents when `line_percent`). With no labels the chart says `empty` instead.
    """
    if not labels or (empty and not _any(series.values()) and not _any((line or {}).values())):
        return _empty(title, empty)
    font = chart_font()
    height = max(2.4, 0.32 * len(labels) * max(1, len(series)) ** 0.5 + 1.2) if horizontal else HEIGHT_IN
    figure, ax = _figure(title, height)
    shown = [_wrap(label) for label in labels]
    count = max(1, len(series))
    width = 0.8 / count
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        offset = [p + (index - (count - 1) / 2) * width for p in positions]
        colour = PALETTE[index % len(PALETTE)]
        if horizontal:
            bars = ax.barh(offset, list(values), height=width, label=name, color=colour)
        else:
            bars = ax.bar(offset, list(values), width=width, label=name, color=colour)
        if len(labels) * count <= MAX_LABELLED_BARS:
            ax.bar_label(bars, labels=[_number(v) for v in values], padding=2, fontsize=7)
    if horizontal:
        ax.set_yticks(positions, shown, fontproperties=font, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)  # the first label on top, as a table reads; no empty ends
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(value_axis, fontproperties=font, fontsize=8)
        ax.margins(x=0.08)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
    else:
        ax.set_xticks(positions, shown, fontproperties=font, fontsize=8)
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(value_axis, fontproperties=font, fontsize=8)
        ax.margins(y=0.12)
        ax.set_ylim(bottom=0, top=None if _any(series.values()) else 1)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    handles, names = ax.get_legend_handles_labels()
    if line and not horizontal:
        right = ax.twinx()
        for name, values in line.items():
            points = [_scaled(v, line_percent) for v in values]
            right.plot(positions, points, color=LINE_COLOUR, marker="o", markersize=4, linewidth=1.5, label=name)
            _label_points(right, positions, points, line_percent)
        _percent_axis(right, line_percent)
        right.set_ylabel(line_axis, fontproperties=font, fontsize=8)
        right.spines["top"].set_visible(False)
        more_handles, more_names = right.get_legend_handles_labels()
        handles, names = handles + more_handles, names + more_names
    if len(series) > 1 or line:
        _legend(figure, handles, names)
    return _png(figure)


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Values], percent: bool) -> bytes:
    """One line per series over the labels (e.g. weeks); fractions shown as 0–100% when `percent`.

    A missing value (None) leaves a gap rather than a false zero.
    """
    if not labels:
        return _empty(title, "")
    font = chart_font()
    figure, ax = _figure(title, HEIGHT_IN)
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        points = [_scaled(v, percent) for v in values]
        ax.plot(positions, points, color=PALETTE[index % len(PALETTE)], marker="o", markersize=4, label=name)
    ax.set_xticks(positions, [_wrap(label) for label in labels], fontproperties=font, fontsize=8)
    if percent:
        _percent_axis(ax, True)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    if len(series) > 1:
        _legend(figure, *ax.get_legend_handles_labels())
    return _png(figure)


def trend_chart(figures: Figures, t: Translator) -> bytes:
    """Found and rectified per week (per phase in the final summary), with the rate to date as a line."""
    points: list[TrendPoint] = figures.phases if is_final(figures) else figures.trend
    labels = [phase_name(p.label, t) if is_final(figures) else p.label for p in points]
    return bar_chart(
        t("report.chart.trend_final" if is_final(figures) else "report.chart.trend"),
        labels,
        {
            t("report.chart.found"): [p.found for p in points],
            t("report.chart.rectified"): [p.rectified for p in points],
        },
        value_axis=t("report.chart.count"),
        line={t("report.chart.rate"): [p.rate for p in points]},
        line_axis=t("report.chart.rate"),
        empty=t("report.chart.no_hazards"),
    )


def kinds_chart(figures: Figures, t: Translator) -> bytes:
    """The hazards found in the period by kind, the commonest first."""
    kinds = list(figures.found_by_kind.items())
    return bar_chart(
        t("report.chart.kinds"),
        [t(f"kind.{code}") for code, _ in kinds],
        {t("report.chart.found"): [n for _, n in kinds]},
        horizontal=True,
        value_axis=t("report.chart.count"),
        empty=t("report.chart.no_hazards"),
    )


def _figure(title: str, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(title, fontproperties=chart_font(), fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    return figure, ax


def _legend(figure: Figure, handles: list, names: list[str]) -> None:
    figure.legend(
        handles, names, loc="outside lower center", ncols=len(names), frameon=False, prop=_sized(chart_font(), 8)
    )


def _percent_axis(ax: Axes, percent: bool) -> None:
    if percent:
        ax.set_ylim(0, 105)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.tick_params(labelsize=8)


def _empty(title: str, message: str) -> bytes:
    """A chart with nothing to draw still reads: its title, and the message in the middle."""
    figure, ax = _figure(title, 1.8)
    ax.set_axis_off()
    ax.text(0.5, 0.45, message, ha="center", va="center", fontproperties=_sized(chart_font(), 11), color="#555555")
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _sized(font: FontProperties, size: float) -> FontProperties:
    copy = font.copy()
    copy.set_size(size)
    return copy


def _label_points(ax: Axes, positions: list[int], points: list[float], percent: bool) -> None:
    """The line's values written over its markers, so a reader need not follow the grid to the second axis."""
    for x, y in zip(positions, points, strict=True):
        if not math.isnan(y):
            text = f"{y:.0f}%" if percent else _number(y)
            ax.annotate(
                text,
                (x, y),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=LINE_COLOUR,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )


def _any(values: Iterable[Values]) -> bool:
    """Whether any of the series has a value other than zero or missing."""
    return any(v for series in values for v in series)


def _scaled(value: float | None, percent: bool) -> float:
    if value is None:
        return math.nan
    return value * 100 if percent else value


def _number(value: float) -> str:
    return "" if not value else f"{value:g}"


def _wrap(label: str, width: int = LABEL_WIDTH) -> str:
    """Wrap a category label into lines of about equal length (no lone last character): at spaces for Latin
    text, between characters for Chinese (two columns each)."""
    columns = text_columns(label)
    if columns <= width:
        return label
    count = math.ceil(columns / width)
    if " " in label:
        fit = next(w for w in range(math.ceil(columns / count), columns + 1) if len(textwrap.wrap(label, w)) <= count)
        return "\n".join(textwrap.wrap(label, fit))
    width = math.ceil(columns / count) + 1  # one column of slack: a Chinese character takes two
    lines, current = [], ""
    for char in label:
        if current and text_columns(current + char) > width:
            lines.append(current)
            current = ""
        current += char
    return "\n".join([*lines, current])
