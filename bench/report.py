"""Markdown reports with PNG plots from a harness JSON report (`dsql bench NAME --report DIR`).

    write(report, Path("out"))   # -> out/NAME.md and out/*.png beside out/NAME.json

The report states the machine and software first (figures mean little without them), then one
section per result group (`Result.group`, else the result name's first part): a table with
throughput, the baseline's, the ratio, latency percentiles and peak RSS of both, and plots:

- `<group>-throughput.png`  dsql against its baseline, one pair of bars per result;
- `<group>-latency.png`     p50/p95/p99 of both (log scale), when latencies were recorded;
- `contention.png`          throughput, abort rate and retries per commit against K hot rows;
- `<group>-clients.png`     throughput against client count (pgbench sweeps);
- `ratios.png`              every other result's ratio to its baseline (kernel benchmarks).

matplotlib runs with the Agg backend (no display). Thread-safety: not thread-safe (pyplot).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _group(r: dict[str, Any]) -> str:
    return str(r.get("group") or r["name"].split(".")[0])


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _lat(lat: dict[str, float] | None) -> str:
    if not lat:
        return ""
    return " / ".join(_fmt(lat.get(k)) for k in ("p50_us", "p95_us", "p99_us"))


def _mib(kb: int | None) -> str:
    return "" if kb is None else f"{kb / 1024:,.0f}"


def _short(r: dict[str, Any], group: str) -> str:
    name = str(r["name"])
    return name[len(group) + 1:] if name.startswith(group + ".") else name


def machine_section(report: dict[str, Any]) -> list[str]:
    m = report.get("machine", {})
    lines = ["## Machine and software", "", "| | |", "|---|---|"]
    for key in ("cpu", "cores", "memory_mib", "kernel", "python", "data_dir",
                "fdatasync_per_s", "dsql_version", "git_commit", "platform"):
        if key in m:
            lines.append(f"| {key} | {_fmt(m[key])} |")
    lines.append("")
    return lines


def compact_table(rows: Sequence[dict[str, Any]], group: str) -> list[str]:
    """For results without latency or RSS (the kernel benchmarks): value, baseline, target."""
    lines = ["| result | value | baseline | ratio | target |", "|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}x ({r.get('better')} better)"
        bname = f" ({r['baseline_name']})" if r.get("baseline_name") else ""
        target = ""
        if r.get("target"):
            target = f"{r['target']}: {'met' if r.get('meets_target') else 'NOT met'}"
        lines.append(f"| {_short(r, group)} | {_fmt(r['value'])} {r['unit']} | "
                     f"{_fmt(r.get('baseline'))}{bname} | {ratio} | {target} |")
    lines.append("")
    return lines


def table(rows: Sequence[dict[str, Any]], group: str) -> list[str]:
    if not any(r.get("latency") or r.get("peak_rss_kb") for r in rows):
        return compact_table(rows, group)
    head = ("| result | value | baseline | ratio | p50/p95/p99 µs | baseline p50/p95/p99 µs "
            "| peak RSS MiB (base) | aborts (base) | retries/commit (base) |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        extra = r.get("extra", {})
        base = extra.get("baseline", {}) if isinstance(extra.get("baseline"), dict) else {}
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}x ({r.get('better')} better)"
        bname = f" ({r['baseline_name']})" if r.get("baseline_name") else ""
        rss = _mib(r.get("peak_rss_kb"))
        if r.get("baseline_peak_rss_kb") is not None:
            rss += f" ({_mib(r['baseline_peak_rss_kb'])})"
        aborts = retries = ""
        if "abort_rate" in extra:
            aborts = f"{extra['abort_rate']:.1%}"
            retries = f"{extra.get('retries_per_commit', 0):.2f}"
            if "abort_rate" in base:
                aborts += f" ({base['abort_rate']:.1%})"
                retries += f" ({base.get('retries_per_commit', 0):.2f})"
        lines.append(
            f"| {_short(r, group)} | {_fmt(r['value'])} {r['unit']} | "
            f"{_fmt(r.get('baseline'))}{bname} | {ratio} | {_lat(r.get('latency'))} | "
            f"{_lat(r.get('baseline_latency'))} | {rss} | {aborts} | {retries} |")
    lines.append("")
    return lines


def _bars(plt: Any, rows: Sequence[dict[str, Any]], group: str, path: Path) -> None:
    labels = [_short(r, group) for r in rows]
    xs = list(range(len(rows)))
    width = 0.4
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(rows) + 2), 4))
    ax.bar([x - width / 2 for x in xs], [r["value"] for r in rows], width, label="dsql")
    if any(r.get("baseline") is not None for r in rows):
        name = next(r.get("baseline_name") for r in rows if r.get("baseline") is not None)
        ax.bar([x + width / 2 for x in xs], [r.get("baseline") or 0 for r in rows], width,
               label=str(name))
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(str(rows[0]["unit"]))
    ax.set_title(f"{group}: throughput ({rows[0].get('better', 'higher')} is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _latency_plot(plt: Any, rows: Sequence[dict[str, Any]], group: str, path: Path) -> None:
    keys = ("p50_us", "p95_us", "p99_us")
    xs = list(range(len(rows)))
    width = 0.13
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(rows) + 2), 4))
    blues = ("#9ecae1", "#4292c6", "#08519c")  # dsql: p50 light .. p99 dark
    oranges = ("#fdae6b", "#f16913", "#a63603")  # the baseline, hatched
    for i, key in enumerate(keys):
        ax.bar([x + (i - 2.5) * width for x in xs],
               [(r.get("latency") or {}).get(key, 0) for r in rows], width,
               label=f"dsql {key[:3]}", color=blues[i])
        ax.bar([x + (i + 0.5) * width for x in xs],
               [(r.get("baseline_latency") or {}).get(key, 0) for r in rows], width,
               label=f"baseline {key[:3]}", hatch="//", color=oranges[i])
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([_short(r, group) for r in rows], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("latency µs (log)")
    ax.set_title(f"{group}: latency percentiles")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _sweep_plot(plt: Any, rows: Sequence[dict[str, Any]], xkey: str, title: str,
                path: Path, panels: bool) -> None:
    pts = sorted(rows, key=lambda r: r["extra"][xkey])
    xs = [r["extra"][xkey] for r in pts]
    series: list[tuple[str, str]] = [("value", str(pts[0]["unit"]))]
    if panels:
        series += [("abort_rate", "abort rate"), ("retries_per_commit", "retries / commit")]
    fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 3.6), squeeze=False)
    for ax, (key, label) in zip(axes[0], series, strict=True):
        if key == "value":
            mine = [r["value"] for r in pts]
            base = [r.get("baseline") for r in pts]
        else:
            mine = [r["extra"].get(key, 0) for r in pts]
            base = [(r["extra"].get("baseline") or {}).get(key) for r in pts]
        ax.plot(xs, mine, marker="o", label="dsql")
        if any(b is not None for b in base):
            ax.plot(xs, [b or 0 for b in base], marker="s",
                    label=str(pts[0].get("baseline_name") or "baseline"))
        ax.set_xscale("log")
        ax.set_xlabel(xkey)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _ratio_plot(plt: Any, rows: Sequence[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.5))
    ys = list(range(len(rows)))
    ax.barh(ys, [r["ratio"] for r in rows])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r['name']} ({r.get('better')})" for r in rows], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("ratio to baseline (log; see 'better' in each label)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(report: dict[str, Any], out: Path) -> Path:
    """REQUIRES: report is a harness JSON report. Writes out/<name>.md and its PNGs."""
    assert "results" in report and "benchmark" in report, "not a harness report"
    out.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    name = str(report["benchmark"])
    lines = [f"# dsql bench {name}{' (quick)' if report.get('quick') else ''}", "",
             f"Run of {report.get('seconds', 0):,.0f} s. Ratios are dsql / baseline measured "
             "in the same run; absolute figures depend on the machine below.", ""]
    lines += machine_section(report)
    modules = report.get("modules") or []
    if modules:
        lines += ["## Benchmarks run", "", "| benchmark | seconds | results | notes |",
                  "|---|---|---|---|"]
        for m in modules:
            notes = "; ".join(m.get("notes", [])) or m.get("error", "")
            lines.append(f"| {m['name']} | {_fmt(m.get('seconds'))} | {m.get('results', 0)} "
                         f"| {notes} |")
        lines.append("")
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in report["results"]:
        groups.setdefault(_group(r), []).append(r)
    loose: list[dict[str, Any]] = []
    for group, rows in groups.items():
        lines += [f"## {group}", ""] + table(rows, group)
        if not any("group" in r for r in rows):
            loose += [r for r in rows if r.get("ratio")]
            continue
        slug = _slug(group)
        _bars(plt, rows, group, out / f"{slug}-throughput.png")
        lines.append(f"![{group} throughput]({slug}-throughput.png)")
        if any((r.get("latency") or {}).get("p50_us") for r in rows):
            _latency_plot(plt, rows, group, out / f"{slug}-latency.png")
            lines.append(f"![{group} latency]({slug}-latency.png)")
        if all("hot_rows" in r.get("extra", {}) for r in rows):
            _sweep_plot(plt, rows, "hot_rows", f"{group}: K hot rows", out / f"{slug}.png",
                        panels=True)
            lines.append(f"![{group} sweep]({slug}.png)")
        elif all("clients" in r.get("extra", {}) for r in rows) and len(rows) > 1:
            _sweep_plot(plt, rows, "clients", f"{group}: clients", out / f"{slug}-clients.png",
                        panels=False)
            lines.append(f"![{group} by clients]({slug}-clients.png)")
        lines.append("")
    if loose:
        _ratio_plot(plt, loose, out / "ratios.png")
        lines += ["## Ratios of the kernel and engine benchmarks", "", "![ratios](ratios.png)", ""]
    path = out / f"{_slug(name)}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
