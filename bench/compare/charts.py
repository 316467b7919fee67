#!/usr/bin/env python3
"""Charts of a compare.py run: req/s and p99 latency per query, one bar per contender.

    .work/venv/bin/python charts.py .work/results-10000.json charts/
writes charts/reqs-10000.png and charts/p99-10000.png. Needs matplotlib (run.sh installs it
into .work/venv).
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ["kith-tls", "kith", "postgraphile5", "postgraphile4", "kith-sqlite"]
COLOURS = {
    "kith-tls": "#1f5fa8",
    "kith": "#4a90d9",
    "postgraphile5": "#d9822b",
    "postgraphile4": "#a8551f",
    "kith-sqlite": "#6aa84f",
}


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def chart(results, metric, label, title, path):
    """One panel per query (each with its own scale: Q2 is far heavier than Q4), one bar per
    contender: the mean of its rounds."""
    meta = results["meta"]
    queries = meta["queries"]
    contenders = [c for c in ORDER if c in results["contenders"]]
    fig, axes = plt.subplots(1, len(queries), figsize=(3.2 * len(queries) + 1, 5), dpi=110,
                             squeeze=False)
    for ax, query in zip(axes[0], queries):
        names, values = [], []
        for contender in contenders:
            entry = results["contenders"][contender]["queries"].get(query)
            if entry:
                names.append(contender)
                values.append(mean([r[metric] for r in entry["rounds"]]) or 0)
        bars = ax.bar(range(len(names)), values, 0.75, color=[COLOURS.get(n) for n in names])
        ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= 100 else f"{v:.1f}" for v in values],
                     fontsize=7, padding=2)
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        ax.set_title(query, fontsize=10)
        ax.margins(y=0.12)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", labelsize=8)
    axes[0][0].set_ylabel(label)
    fig.suptitle(f"{title}: {meta['customers']:,} customers, wrk -t{meta['threads']} "
                 f"-c{meta['connections']} -d{meta['duration']}s, mean of {meta['rounds']} "
                 f"round(s), {meta['cores']} cores", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    source, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    results = json.loads(source.read_text())
    customers = results["meta"]["customers"]
    out_dir.mkdir(parents=True, exist_ok=True)
    reqs = out_dir / f"reqs-{customers}.png"
    p99 = out_dir / f"p99-{customers}.png"
    chart(results, "rps", "requests per second (higher is better)", "Throughput", reqs)
    chart(results, "p99_ms", "p99 latency, ms (lower is better)", "p99 latency", p99)
    print(f"charts: {reqs} {p99}")


if __name__ == "__main__":
    main()
