"""Benchmark: receipts per second on one core and peak memory, ReportLab form vs WeasyPrint HTML.

Run: ``.venv/bin/python bench/receipts.py [--n 400] [--weasy-n 20] [--no-weasyprint] [--jobs N]``.
Throughput is CPU time of this single-threaded process (time.process_time), so other load on
the machine disturbs it less than wall time; wall time is printed too. With ``--jobs N`` the
same receipts are also rendered by N worker processes (as ``receipts_render --jobs``), wall time.
Pages per receipt are counted: the layout flows onto a second page rather than cut anything.
"""

import argparse
import html
import resource
import sys
import time
import tracemalloc
from pathlib import Path

from machine_info import machine  # noqa: E402 - bench/ is the script's own folder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import segno  # noqa: E402

from kvartplata.receipts import pdf, qr  # noqa: E402
from kvartplata.receipts.snapshot import sample_snapshot  # noqa: E402


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, items):
    cpu, wall = time.process_time(), time.perf_counter()
    size = 0
    for item in items:
        size += len(fn(item))
    return time.process_time() - cpu, time.perf_counter() - wall, size


def _render_chunk(chunk):
    return sum(len(pdf.render_receipt(s)) for s in chunk)


def bench_parallel(snapshots, jobs: int) -> float:
    """Wall receipts/s of ``jobs`` forked worker processes (fonts loaded before the fork)."""
    import multiprocessing

    pdf.fonts()
    chunks = [snapshots[k : k + 40] for k in range(0, len(snapshots), 40)]
    wall = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        sum(pool.imap_unordered(_render_chunk, chunks))
    return len(snapshots) / (time.perf_counter() - wall)


def bench_reportlab(snapshots):
    list(pdf.render_receipts(snapshots[:3]))  # fonts, subsets, QR templates: once per process
    cpu, wall, size = timed(pdf.render_receipt, snapshots)
    tracemalloc.start()
    for s in snapshots[:50]:
        pdf.render_receipt(s)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return cpu, wall, size, peak


CSS = """
@page { size: A4; margin: 8mm; }
body { font-family: 'DejaVu Sans Condensed', sans-serif; font-size: 7pt; }
h1 { font-size: 12pt; margin: 0; } h2 { font-size: 8pt; border-bottom: 1px solid #000; }
table { width: 100%; border-collapse: collapse; } td, th { border: 0.4pt solid #000; padding: 1pt; }
th { background: #eee; font-size: 6pt; } td.n { text-align: right; }
.cols { display: flex; gap: 8pt; } .cols > div { flex: 1; }
.payees { display: flex; } .payee { flex: 1; display: flex; border: 0.6pt solid #000; }
.payee img { width: 100pt; height: 100pt; }
"""


def receipt_html(s: dict) -> str:
    """The same receipt as an HTML template, the way a Django view would feed WeasyPrint."""
    e = html.escape
    num, vol = pdf._num, pdf._vol
    acc, org, t = s["account"], s["organization"], s["totals"]
    holder = " ".join(acc["holder"].values())

    def rows(items, cells):
        return "".join(
            "<tr>" + "".join(f'<td class="{c}">{e(v)}</td>' for c, v in cells(i)) + "</tr>"
            for i in items
        )

    meters = rows(s["meters"], lambda m: [("", m["service"]), ("", m["serial"]),
                  ("", m["zone"]), ("n", vol(m["previous"])), ("n", vol(m["current"])),
                  ("", m["unit"])])  # fmt: skip
    charges = rows(s["charges"], lambda c: [("", c["service"]), ("", c["provider"]),
                   ("", c["unit"]), ("n", vol(c["volume"])), ("n", vol(c["common_volume"])),
                   ("n", num(c["tariff"])), ("n", num(c["charged"])),
                   ("n", num(c["coefficient_amount"])), ("n", num(c["recalculations"])),
                   ("n", num(c["privileges"])), ("n", num(c["total"])),
                   ("", c["method"])])  # fmt: skip
    norms = rows(s["reference"]["norms"], lambda n: [("", n["service"]), ("", n["unit"]),
                 ("n", vol(n["individual"])), ("n", vol(n["common"]))])  # fmt: skip
    building = rows(s["reference"]["building"], lambda b: [
        ("", b["resource"]), ("n", vol(b["reading"])), ("n", vol(b["volume"])), ("", b["unit"])
    ])  # fmt: skip
    recalcs = rows(s["recalculations"], lambda r: [("", r["service"]), ("", r["month"]),
                   ("n", num(r["amount"])), ("", r["reason"])])  # fmt: skip
    payees = ""
    for p in s["payees"]:
        # What a typical project does: segno with its defaults (all eight masks evaluated).
        code = segno.make_qr(pdf.payee_qr_text(s, p).encode("cp1251"), error="m")
        payees += (
            f'<div class="payee"><img src="{code.svg_data_uri(border=4)}">'
            f"<div><b>{e(p['name'])}</b><br>ИНН {p['inn']} КПП {p['kpp']}<br>"
            f"Р/с {p['bank']['account']}<br>{e(p['bank']['name'])}<br>БИК {p['bank']['bic']}"
            f"<br>К/с {p['bank']['corr']}<br><b>{num(p['amount'])} ₽</b></div></div>"
        )
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<style>{CSS}</style></head><body>
<h1>ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ</h1><p>№ {s["number"]}, период {s["period"]},
лицевой счёт <b>{acc["number"]}</b>, к оплате <b>{num(t["total_due"])} ₽</b>
до {s["due_date"]}</p>
<div class="cols"><div><h2>1. Плательщик и исполнитель</h2>{e(holder)}<br>{e(acc["address"])}<br>
Площадь {num(acc["area"])} м², проживает {acc["residents"]}</div>
<div><h2>Исполнитель</h2><b>{e(org["name"])}</b><br>ИНН {org["inn"]} КПП {org["kpp"]}<br>
{e(org["address"])}<br>{e("; ".join(org["phones"]))}<br>{e(org["email"])} {e(org["website"])}
<br>Р/с {org["bank"]["account"]} в {e(org["bank"]["name"])}, БИК {org["bank"]["bic"]}</div></div>
<div class="cols"><div><h2>2. Показания приборов учёта</h2><table><tr><th>Услуга</th>
<th>№</th><th>Зона</th><th>Пред.</th><th>Тек.</th><th>Ед.</th></tr>{meters}</table></div>
<div><h2>4. Справочная информация</h2><table><tr><th>Норматив</th><th>Ед.</th>
<th>Инд.</th><th>ОДН</th></tr>{norms}</table><table><tr><th>ОДПУ</th><th>Показание</th>
<th>Объём</th><th>Ед.</th></tr>{building}</table></div></div>
<h2>3. Расчёт размера платы</h2><table><tr><th>Услуга</th><th>Исполнитель</th><th>Ед.</th>
<th>Объём</th><th>ОДН</th><th>Тариф</th><th>Начислено</th><th>Коэфф.</th><th>Перерасчёты</th>
<th>Льготы</th><th>Итого</th><th>Способ</th></tr>{charges}</table>
<p>Долг/аванс {num(t["opening"])}, начислено {num(t["charges"])}, пени {num(t["penalties"])},
оплачено {num(t["payments"])}, <b>итого к оплате {num(t["total_due"])} ₽</b></p>
<h2>6. Перерасчёты</h2><table><tr><th>Услуга</th><th>Месяц</th><th>Сумма</th>
<th>Основание</th></tr>{recalcs}</table>
<h2>Получатели платежа</h2><div class="payees">{payees}</div></body></html>"""


def bench_weasyprint(snapshots):
    try:
        import weasyprint
    except ImportError:
        return None
    render = lambda s: weasyprint.HTML(string=receipt_html(s)).write_pdf()  # noqa: E731
    render(snapshots[0])  # warm-up: font configuration
    cpu, wall, size = timed(render, snapshots)
    tracemalloc.start()
    render(snapshots[1 % len(snapshots)])
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return cpu, wall, size, peak, weasyprint.__version__


def bench_qr(texts):
    data = [t.encode("cp1251") for t in texts]
    cpu = time.process_time()
    for d in data:
        segno.make_qr(d, error="m", mode="byte")
    segno_ms = (time.process_time() - cpu) / len(data) * 1000
    cpu = time.process_time()
    for t in texts:
        qr.payment_qr_matrix(t)
    ours_ms = (time.process_time() - cpu) / len(texts) * 1000
    return segno_ms, ours_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="receipts rendered with ReportLab")
    parser.add_argument("--weasy-n", type=int, default=20, help="receipts with WeasyPrint")
    parser.add_argument("--no-weasyprint", action="store_true")
    parser.add_argument("--jobs", type=int, default=0, help="also render with N processes")
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    snapshots = [sample_snapshot(k) for k in range(args.n)]
    texts = [pdf.payee_qr_text(s, p) for s in snapshots[:100] for p in s["payees"]]
    segno_ms, ours_ms = bench_qr(texts)
    print(f"QR code (v{len(qr.payment_qr_matrix(texts[0])) // 4 - 4}, level M, cp1251): "
          f"segno defaults {segno_ms:.2f} ms, template encoder {ours_ms:.2f} ms")  # fmt: skip

    cpu, wall, size, peak = bench_reportlab(snapshots)
    rl_rate = args.n / cpu
    print(
        f"ReportLab form: {args.n} receipts, {rl_rate:.0f} receipts/s per core "
        f"({cpu / args.n * 1000:.2f} ms CPU each; wall {args.n / wall:.0f}/s), "
        f"{size / args.n / 1024:.0f} KiB per PDF, peak heap {peak:.1f} MiB, "
        f"max RSS {maxrss_mb():.0f} MiB"
    )
    pages = [pdf.render_receipt(s).count(b"/Type /Page\n") for s in snapshots[:50]]
    print(f"Pages per receipt (first {len(pages)}): {sorted(set(pages))}")
    if args.jobs:
        print(f"ReportLab form, {args.jobs} processes: {bench_parallel(snapshots, args.jobs):.0f} "
              "receipts/s wall (pool start-up included)")  # fmt: skip
    if args.no_weasyprint:
        return
    result = bench_weasyprint(snapshots[: args.weasy_n])
    if result is None:
        print("WeasyPrint: not installed (pip install -r requirements/bench.txt)")
        return
    cpu, wall, size, peak, version = result
    wp_rate = args.weasy_n / cpu
    print(
        f"WeasyPrint {version} HTML: {args.weasy_n} receipts, {wp_rate:.1f} receipts/s per core "
        f"({cpu / args.weasy_n * 1000:.0f} ms CPU each; wall {args.weasy_n / wall:.1f}/s), "
        f"{size / args.weasy_n / 1024:.0f} KiB per PDF, peak heap {peak:.1f} MiB, "
        f"max RSS {maxrss_mb():.0f} MiB"
    )
    print(f"Speed-up: {rl_rate / wp_rate:.0f}x")


if __name__ == "__main__":
    main()
