"""The server-drawn charts say what they show: cut bars are marked, inputs are named, lines are told apart."""

import re

from django.template.loader import render_to_string
from django.utils import translation

from credit.stability import PSI_SHIFTED, PSI_WATCH
from web.charts import Bar, bar_chart
from web.page_selectors.monitoring import stability_chart, vintage_chart
from web.templatetags.npl_format import month

ROWS = [
    {"name": "otr", "label": "Vehicle on-the-road price (Rp)", "psi": 4.6, "level": "shifted"},
    {"name": "tenor", "label": "Tenor (months)", "psi": 0.15, "level": "watch"},
    {"name": "dp", "label": "Down payment (Rp)", "psi": 0.02, "level": "stable"},
    {"name": "pekerjaan", "label": "Job", "psi": None, "level": "stable"},
]


def svg_of(chart) -> str:
    return render_to_string("charts/bar.html", {"chart": chart, "chart_id": "c", "title": "t"})


def test_a_stability_index_above_the_axis_is_cut_with_a_mark_and_its_value():
    chart = stability_chart(ROWS)
    bars = chart["bars"]
    assert len(bars) == 3  # the input without an index has no bar
    assert [bar["clipped"] for bar in bars] == [True, False, False]
    svg = svg_of(chart)
    assert svg.count('class="chart-bar-break"') == 1
    assert re.search(r'class="chart-bar-value"[^>]*>4\.60</text>', svg)
    with translation.override("id"):
        assert re.search(r'class="chart-bar-value"[^>]*>4,60</text>', svg_of(stability_chart(ROWS)))


def test_each_bar_is_named_after_its_input_not_numbered():
    svg = svg_of(stability_chart(ROWS))
    labels = re.findall(r'<text class="chart-tick"[^>]*transform="rotate\(-35 [^"]*\)">([^<]+)</text>', svg)
    assert labels == ["Vehicle on-the-road price (Rp)", "Tenor (months)", "Down payment (Rp)"]
    chart = stability_chart(ROWS)
    # The chart grows downwards for the turned names; the plot keeps its height.
    plain = bar_chart([Bar(value=0.5, label="1")], y_max=1.0)
    assert chart["height"] > plain["height"] and chart["bottom"] == plain["bottom"]


def test_the_watch_and_shifted_lines_have_their_own_colours():
    chart = stability_chart(ROWS)
    lines = {line["label"]: line["css"] for line in chart["references"]}
    assert lines == {f"{PSI_WATCH:.2f}": "chart-reference-watch", f"{PSI_SHIFTED:.2f}": ""}
    svg = svg_of(chart)
    assert 'class="chart-reference chart-reference-watch"' in svg and 'class="chart-reference "' in svg


def test_a_bar_within_the_axis_is_not_marked():
    chart = bar_chart([Bar(value=0.4, label="a", value_label="0.40")], y_max=1.0)
    assert not chart["bars"][0]["clipped"] and "chart-bar-break" not in svg_of(chart)


def test_vintage_months_are_written_as_the_site_writes_dates_not_iso():
    """Issue 22, item 19: "Aug 2023" / "Agu 2023", never "2023-08", in the chart and the table."""
    rows = [{"vintage": "2023-08", "roc_auc": 0.81}, {"vintage": "2023-09", "roc_auc": None}]
    chart = vintage_chart(rows, test_auc=0.8)
    assert [bar["label"] for bar in chart["bars"]] == ["Aug 2023"]
    assert chart["bars"][0]["title"] == "Aug 2023: ROC AUC 0.810"
    with translation.override("id"):
        assert [bar["label"] for bar in vintage_chart(rows, test_auc=0.8)["bars"]] == ["Agu 2023"]
        assert month("2023-12") == "Des 2023"
    assert month("") == "—" and month("not a month") == "not a month"
