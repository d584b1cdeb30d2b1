"""Server-side SVG charts of charges and consumption (pygal), served as images without scripts."""

import datetime
from decimal import Decimal
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from kvartplata.lib.money import format_volume

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5b6775",
    colors=("#1f5fa8", "#1e7b45", "#b8741a", "#8e3b9e", "#b42318"),
    font_family="system-ui, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=12,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
)
# A browser shows an SVG image without running anything, but the file may also be opened
# directly: this policy keeps it inert then too (pygal's own <style> needs inline styles).
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def month_label(month: datetime.date) -> str:
    """A short axis label that still has the year: «11.25»; twelve of them fit 600 px."""
    return f"{month:%m.%y}"


def axis_number(value, places: int) -> str:
    """A number the Russian way without trailing zeros: «8», «0,5», «1 234,25».

    pygal formats axis ticks with the value formatter; «8,000 м³» would read as eight thousand.
    """
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    text = format_volume(number, places)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def _config(title: str, formatter) -> dict:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "width": 600,
        "height": 340,
        "legend_at_bottom": True,
        "x_label_rotation": 0,
        # Never cut a month label to «ноя…»: the labels are short enough to fit whole.
        "truncate_label": -1,
        "truncate_legend": 40,
        "value_formatter": formatter,
        "no_data_text": "Нет данных",
        "margin": 12,
    }


def _svg(chart) -> bytes:
    """Render and drop pygal's configuration <script>: the chart needs no JavaScript."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)


def _rub(value) -> str:
    return f"{axis_number(value, 2)}\u00a0₽" if value is not None else ""


def charges_chart(
    months: list[datetime.date], charged: list[Decimal], paid: list[Decimal]
) -> bytes:
    """Bars of what was charged (with recalculations and penalties) and paid, by month."""
    chart = pygal.Bar(**_config("Начислено и оплачено по месяцам, ₽", _rub))
    chart.x_labels = [month_label(m) for m in months]
    chart.add("Начислено", list(charged))
    chart.add("Оплачено", list(paid))
    return _svg(chart)


def consumption_chart(
    months: list[datetime.date], series: list[tuple[str, dict]], unit_label: str
) -> bytes:
    """Lines of the monthly volume of each metered service measured in one unit."""

    def fmt(value) -> str:
        return f"{axis_number(value, 3)}\u00a0{unit_label}" if value is not None else ""

    chart = pygal.Line(**_config(f"Потребление по месяцам, {unit_label}", fmt))
    chart.x_labels = [month_label(m) for m in months]
    for name, values in series:
        chart.add(name, [values.get(m) for m in months])
    return _svg(chart)
