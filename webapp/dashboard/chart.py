"""A server-rendered SVG bar chart of calls per day, stacked by outcome."""

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 440, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 28, 6, 10, 24
SERIES = ("completed", "failed", "active")


@dataclass
class Segment:
    series: str
    y: float
    height: float


@dataclass
class Bar:
    day: date
    x: float
    width: float
    total: int
    segments: list[Segment]
    label: str | None


def _nice_max(value: int) -> int:
    """A round top for the axis: 1, 2, 5, 10, 20, 50, ..."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if value <= step * multiple:
                return step * multiple
        step *= 10


def bars(per_day: list[tuple[date, dict[str, int]]]) -> dict:
    """Geometry for the template: bars with stacked segments, y-axis ticks, and the plot area."""
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = _nice_max(max([sum(counts.values()) for _, counts in per_day] + [1]))
    slot = plot_width / max(len(per_day), 1)
    result = []
    for index, (day, counts) in enumerate(per_day):
        baseline = PAD_TOP + plot_height
        segments = []
        for series in SERIES:
            height = counts.get(series, 0) / top * plot_height
            if height:
                baseline -= height
                segments.append(Segment(series, round(baseline, 1), round(height, 1)))
        label = day.strftime("%b %-d") if (len(per_day) - 1 - index) % 2 == 0 or len(per_day) <= 7 else None
        result.append(Bar(day, round(PAD_LEFT + index * slot + slot * 0.15, 1), round(slot * 0.7, 1),
                          sum(counts.values()), segments, label))  # fmt: skip
    ticks = [
        (value, round(PAD_TOP + plot_height - value / top * plot_height, 1)) for value in sorted({0, top // 2, top})
    ]
    return {"bars": result, "ticks": ticks, "width": WIDTH, "height": HEIGHT, "left": PAD_LEFT,
            "right": WIDTH - PAD_RIGHT, "baseline": PAD_TOP + plot_height, "series": SERIES}  # fmt: skip
