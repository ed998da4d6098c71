#!/usr/bin/env python3
"""Renders `pmemd-bench memmap --json` as the Markdown tables of docs/performance.md.

    build/release/bench/pmemd-bench memmap --json > memmap.json
    python3 bench/memmap_report.py memmap.json [more.json ...]

With several runs, the first is rendered in full and the targets table gets
one column per run (named after its file), so that the ratios can be compared.
"""
import json
import os
import sys


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:g} {unit}"
        n /= 1024
    return f"{n:g} PiB"


def render(run):
    out = []
    out.append(f"{run['cpus']} CPUs, streaming stores `{run['store']}`, median of {run['repeats']} "
               f"(end-to-end: median of {run['e2e_repeats']}"
               f"{', host-warm' if run.get('e2e_warm') else ''})\n")
    for size in run["sizes"]:
        out.append(f"\n#### {human(size['descriptor_bytes'])} of descriptors "
                   f"({size['descriptors']:,} pages = {human(size['device_bytes'])} of device)\n")
        out.append("| variant | threads | median ms | ns/descriptor | GB/s | vs memset | vs nt-fill |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in size["prefaulted"]:
            name = f"{r['name']} (limit)" if r["kind"] == "limit" else r["name"]
            if "ready_ns" in r:
                name += f" (ready after {r['ready_ns'] / 1e6:.3f} ms)"
            out.append(f"| {name} | {r['threads']} | {r['median_ns'] / 1e6:.2f} | "
                       f"{r['ns_per_descriptor']:.3f} | {r['gb_per_s']:.2f} | {r['vs_memset']:.2f} | "
                       f"{r['vs_nt_fill']:.2f} |")
        if size["end_to_end"]:
            out.append("")
            out.append("| end to end on fresh memory | threads | median ms | GB/s | page faults | ready ms |")
            out.append("|---|---:|---:|---:|---:|---:|")
            for e in size["end_to_end"]:
                out.append(f"| {e['name']} | {e['threads']} | {e['median_ns'] / 1e6:.2f} | "
                           f"{e['gb_per_s']:.2f} | {e['page_faults']:,} | {e['ready_ns'] / 1e6:.3f} |")
        if "deferred_ready" in size:
            r = size["deferred_ready"]
            out.append(f"\nDeferred time-to-ready on fresh memory (default set-up): median "
                       f"{r['median_ns'] / 1e6:.3f} ms over {r['samples']} samples "
                       f"(min {r['min_ns'] / 1e6:.3f}, max {r['max_ns'] / 1e6:.3f}).")
    return "\n".join(out)


def targets(runs, names):
    head = "| target | rule | " + " | ".join(names) + " |"
    out = [head, "|---|---|" + "---:|" * len(runs)]
    for i, t in enumerate(runs[0]["targets"]):
        cells = []
        for run in runs:
            rt = run["targets"][i]
            m = rt["measured"]
            cells.append("n/a" if m is None else f"{m:.2f} {'met' if rt['met'] else '**missed**'}")
        out.append(f"| {t['name']} | {t['target']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    paths = sys.argv[1:]
    runs = [json.load(open(p)) for p in paths] if paths else [json.load(sys.stdin)]
    names = [os.path.basename(p).removesuffix(".json") for p in paths] or ["run"]
    print(render(runs[0]))
    print()
    print(targets(runs, names))


if __name__ == "__main__":
    main()
