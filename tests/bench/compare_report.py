#!/usr/bin/env python3
"""Summarises tests/bench/compare.sh measurements. Python 3 standard library only.

Usage: compare_report.py WORKDIR MARKDOWN_OUT SVG_OUT
Reads WORKDIR/runs.tsv (one line per wrk run) and WORKDIR/configs.tsv (one line per
configuration), plus WORKDIR/header.md and WORKDIR/extra.md if present; prints a Markdown
report (also written to MARKDOWN_OUT) and writes a bar chart of requests/s and p99 to SVG_OUT.

runs.tsv:    config round load(sat|light) rps p50_ms p99_ms requests cpu_seconds errors
configs.tsv: config label peak_rss_kib sink_spans note
"""
import html
import os
import statistics
import sys

BASELINE = "nginx"
CEILING = "direct"


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec, none="–"):
    return none if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def main():
    work, md_out, svg_out = sys.argv[1:4]
    runs = read_tsv(os.path.join(work, "runs.tsv"))
    configs = read_tsv(os.path.join(work, "configs.tsv"))
    rows = []
    for c in configs:
        name, label, rss, spans, note = (c + [""] * 5)[:5]
        sat = [r for r in runs if r[0] == name and r[2] == "sat"]
        light = [r for r in runs if r[0] == name and r[2] == "light"]
        every = sat + light
        if not sat:
            rows.append({"name": name, "label": label, "note": note, "missing": True})
            continue
        cpu_per_req = [float(r[7]) * 1e6 / int(r[6]) if int(r[6]) > 0 else None for r in sat]
        total_req = sum(int(r[6]) for r in every)
        rows.append({
            "name": name, "label": label, "note": note, "missing": False,
            "rps": median([float(r[3]) for r in sat]),
            "p50": median([float(r[4]) for r in sat]),
            "p99": median([float(r[5]) for r in sat]),
            "lp50": median([float(r[4]) for r in light]),
            "lp99": median([float(r[5]) for r in light]),
            "lrps": median([float(r[3]) for r in light]),
            "cpu": median(cpu_per_req),
            "rss": int(rss) / 1024 if rss not in ("", "-") else None,
            "spans": (int(spans) / total_req) if spans not in ("", "-") and total_req else None,
            "errors": sum(int(r[8]) for r in every),
            "rounds": len(sat),
        })
    by = {r["name"]: r for r in rows}
    base = by.get(BASELINE)
    ceil = by.get(CEILING)

    out = []
    header = os.path.join(work, "header.md")
    if os.path.exists(header):
        out.append(open(header).read().rstrip("\n"))
        out.append("")
    table = []
    table.append("| Configuration | req/s | vs nginx | p50 ms | p99 ms | p99 vs nginx | +p99 vs direct ms "
               "| light p50 ms | light p99 ms | CPU µs/req | vs nginx | peak RSS MiB | spans/req | errors |")
    table.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        if r["missing"]:
            table.append("| %s | skipped: %s |||||||||||||" % (r["label"], r["note"] or "not measured"))
            continue
        b = base if base and not base["missing"] else None
        added = None
        if ceil and not ceil["missing"] and r is not ceil:
            added = r["p99"] - ceil["p99"]
        table.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["label"],
            fmt(r["rps"], ",.0f"),
            fmt(ratio(r["rps"], b["rps"]) if b else None, ".2f"),
            fmt(r["p50"], ".3f"), fmt(r["p99"], ".3f"),
            fmt(ratio(r["p99"], b["p99"]) if b else None, ".2f"),
            fmt(added, "+.3f"),
            fmt(r["lp50"], ".3f"), fmt(r["lp99"], ".3f"),
            fmt(r["cpu"], ".1f"),
            fmt(ratio(r["cpu"], b["cpu"]) if b else None, ".2f"),
            fmt(r["rss"], ".1f"),
            fmt(r["spans"], ".3f"),
            r["errors"]))
    if rows:
        out.extend(table)
    notes = [r for r in rows if r["note"] and not r["missing"]]
    if notes:
        out.append("")
        for r in notes:
            out.append("- %s: %s" % (r["label"], r["note"]))
    extra = os.path.join(work, "extra.md")
    if os.path.exists(extra):
        out.append("")
        out.append(open(extra).read().rstrip("\n"))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_out, "w") as f:
        f.write(text)
    write_svg(svg_out, [r for r in rows if not r["missing"]])


def write_svg(path, rows):
    if not rows:
        return
    label_w, bar_w, row_h, top, gap = 230, 330, 24, 48, 60
    width = label_w + 2 * (bar_w + gap) + 20
    height = top + row_h * len(rows) + 40
    colors = {"direct": "#9e9e9e", "nginx": "#4caf50", "haproxy": "#2196f3", "haproxy-ot": "#1565c0"}
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="12">' % (width, height),
             '<rect width="100%" height="100%" fill="white"/>']
    panels = [("requests/s (median, higher is better)", "rps", ",.0f"),
              ("p99 latency ms at saturation (lower is better)", "p99", ".2f")]
    for pi, (title, key, spec) in enumerate(panels):
        x0 = label_w + pi * (bar_w + gap)
        vmax = max((r[key] or 0) for r in rows) or 1
        parts.append('<text x="%d" y="20" font-weight="bold">%s</text>' % (x0, html.escape(title)))
        for i, r in enumerate(rows):
            y = top + i * row_h
            v = r[key] or 0
            w = max(1, bar_w * 0.8 * v / vmax)
            color = colors.get(r["name"], "#ff7043" if r["name"].startswith("tracegate") else "#795548")
            parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                         % (x0, y, w, row_h - 6, color))
            parts.append('<text x="%.1f" y="%d">%s</text>' % (x0 + w + 4, y + row_h - 11, format(v, spec)))
            if pi == 0:
                parts.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                             % (label_w - 8, y + row_h - 11, html.escape(r["label"])))
    parts.append('<text x="10" y="%d" fill="#555">tests/bench/compare.sh — wrk, loopback, '
                 'same nginx upstream; bars are medians over rounds</text>' % (height - 12))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
