#!/usr/bin/env python3
"""Turn the console logs of tests/bench/run.sh into BENCHMARKS.md and a plot.

The benchmark module prints one line per figure:

    spl_kmem_bench: R <section> key=value key=value ...

Sections: env, fast, faststat, mem, reap, conc, locks, done, error, and ctl (the
control-plane figures, part 4, which the guest's "control" stage prints
with tests/bench/ctltime as "R ctl what=<list|psi> caches=<n> med=...
min=... max=... q1=... q3=... p99=... reps=..." in milliseconds).  Everything in BENCHMARKS.md is computed
here from those lines; nothing is typed in by hand, so the prose states only
what the figures of this run show.
"""
import argparse
import re
import sys
from collections import defaultdict

LINE = re.compile(r"spl_kmem_bench: R (\w+) (.*)$")
SIZES = [64, 512, 4096, 16384, 32768, 131072, 1048576]
FAST_ALLOCS = ["spl", "spl-kvmem", "spl-kvmem-nodebug", "spl-slab", "slub", "slub-noinit",
               "kmalloc", "kvmalloc", "vmalloc"]
CONC_ALLOCS = ["spl", "spl-kvmem", "spl-slab", "slub", "kmalloc", "kvmalloc",
               "vmalloc"]
# spl_kmem's default backing when the log has no "R backing" lines: the
# Linux slab up to slab_limit (16 KiB when this was written).
SLAB_LIMIT = 16384
BACKING = {}


def parse(path):
    recs = defaultdict(list)
    if not path:
        return recs
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return recs
    for line in text.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        kv = {}
        for tok in m.group(2).split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                kv[k] = num(v)
        recs[m.group(1)].append(kv)
    return recs


def num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def default_backing(size):
    if size in BACKING:
        return BACKING[size]
    return "spl-slab" if size <= SLAB_LIMIT else "spl-kvmem"


def hsize(n):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fratio(r):
    if r is None:
        return "–"
    if r >= 100:
        return f"{r:,.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def spread_pct(rec):
    """Half the interquartile range, as a percentage of the median."""
    med = rec.get("med") or 0
    if not med:
        return None
    return (rec["q3"] - rec["q1"]) / 2 / med * 100


def spread(rec):
    p = spread_pct(rec)
    if p is None:
        return ""
    return f" ±{p:.1f}%" if p < 10 else f" ±{p:.0f}%"


def fmt_mib(b):
    if b is None or b < 0:
        return "–"
    return f"{b / (1 << 20):,.2f}"


class Data:
    def __init__(self, fast_log, conc_log, meta_path):
        self.f = parse(fast_log)
        self.c = parse(conc_log)
        self.meta = {}
        if meta_path:
            try:
                for line in open(meta_path):
                    if "=" in line:
                        k, v = line.rstrip("\n").split("=", 1)
                        self.meta[k] = v
            except OSError:
                pass
        for r in self.f["backing"]:
            BACKING[r["size"]] = r["default"]
        self.spl = (self.f["spl"] or [{}])[0]
        self.fast = {}
        for r in self.f["fast"]:
            self.fast[(r["alloc"], r["size"], r["op"])] = r
        for (a, s, op), r in list(self.fast.items()):
            if a == default_backing(s):
                self.fast[("spl", s, op)] = r
        self.faststat = {(r["alloc"], r["size"]): r for r in self.f["faststat"]}
        self.conc = {}
        for r in self.c["conc"]:
            self.conc[(r["alloc"], r["size"], r["test"])] = r
        for (a, s, t), r in list(self.conc.items()):
            if a == default_backing(s):
                self.conc[("spl", s, t)] = r
        self.env_f = (self.f["env"] or [{}])[0]
        self.env_c = (self.c["env"] or [{}])[0]
        self.sizes = sorted({s for (_, s, _) in self.fast} |
                            {s for (_, s, _) in self.conc})

    def med(self, alloc, size, op):
        r = self.fast.get((alloc, size, op))
        return r["med"] if r else None

    def cmed(self, alloc, size, test):
        r = self.conc.get((alloc, size, test))
        return r["med"] if r else None


def fast_table(d, op, out):
    allocs = [a for a in FAST_ALLOCS if any((a, s, op) in d.fast for s in d.sizes)]
    out.append("| size | " + " | ".join(
        "**spl_kmem (default)**" if a == "spl" else a for a in allocs) + " |")
    out.append("|---" * (len(allocs) + 1) + "|")
    for s in d.sizes:
        if not any((a, s, op) in d.fast for a in allocs):
            continue
        cells = []
        for a in allocs:
            r = d.fast.get((a, s, op))
            if not r:
                cells.append("–")
                continue
            c = fmt(r["med"]) + spread(r)
            if a == "spl":
                c = f"**{fmt(r['med'])}**{spread(r)} ({default_backing(s)[4:]})"
            cells.append(c)
        out.append(f"| {hsize(s)} | " + " | ".join(cells) + " |")


def fast_ratio_table(d, out):
    out.append("| size | spl (default) ÷ SLUB, pair | batch | spl-kvmem ÷ SLUB, pair | batch "
               "| vmalloc ÷ spl-kvmem, pair | batch | vmalloc ÷ spl (default), batch |")
    out.append("|---" * 8 + "|")
    for s in d.sizes:
        row = [hsize(s)]
        for a in ("spl", "spl-kvmem"):
            for op in ("pair", "batch"):
                row.append(fratio(ratio(d.med(a, s, op), d.med("slub", s, op))))
        for op in ("pair", "batch"):
            row.append(fratio(ratio(d.med("vmalloc", s, op), d.med("spl-kvmem", s, op))))
        row.append(fratio(ratio(d.med("vmalloc", s, "batch"), d.med("spl", s, "batch"))))
        out.append("| " + " | ".join(row) + " |")


def verdicts(d):
    """Where spl_kmem (default backing, and KVMEM) wins or loses."""
    wins, losses, target = [], [], []
    for s in d.sizes:
        for op in ("pair", "batch"):
            spl, slub = d.med("spl", s, op), d.med("slub", s, op)
            r = ratio(spl, slub)
            if r is None:
                continue
            what = f"{hsize(s)} {op} ({default_backing(s)}): {fmt(spl)} vs SLUB {fmt(slub)} ns"
            if r <= 0.95:
                wins.append(f"{what}, {fratio(1 / r)} faster")
            elif r >= 1.05:
                losses.append(f"{what}, {fratio(r)} slower")
            if s >= 16384 and r > 1.0:
                target.append(f"slower than SLUB at {hsize(s)} {op}: {fratio(r)} "
                              f"({fmt(spl)} vs {fmt(slub)} ns)")
            if s >= 131072:
                v = ratio(d.med("vmalloc", s, op), spl)
                if v is not None and v < 20:
                    target.append(f"only {fratio(v)} faster than vmalloc at {hsize(s)} "
                                  f"{op} ({fmt(spl)} vs {fmt(d.med('vmalloc', s, op))} ns; "
                                  "target 20x)")
    return wins, losses, target


def plot(d, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {
        "spl-kvmem": ("tab:red", "o", "-"), "spl-slab": ("tab:orange", "s", "-"),
        "slub": ("tab:blue", "^", "-"), "slub-noinit": ("tab:blue", "v", ":"),
        "kmalloc": ("tab:green", "D", "-"), "kvmalloc": ("tab:olive", "x", "--"),
        "vmalloc": ("tab:purple", "P", "-"), "null": ("tab:gray", ".", ":"),
    }
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    for ax, op, title in ((axes[0], "pair", "alloc+free pairs"),
                          (axes[1], "batch", "batches: N allocs, then N frees")):
        for a, (col, mk, ls) in styles.items():
            pts = [(s, d.fast[(a, s, op)]) for s in d.sizes if (a, s, op) in d.fast]
            if not pts:
                continue
            xs = [p[0] for p in pts]
            ys = [p[1]["med"] for p in pts]
            lo = [p[1]["med"] - p[1]["min"] for p in pts]
            hi = [p[1]["max"] - p[1]["med"] for p in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], color=col, marker=mk, ls=ls,
                        label=a, capsize=2, lw=1.4 if a.startswith("spl") else 1)
        pts = [(s, d.fast[("spl", s, op)]["med"]) for s in d.sizes if ("spl", s, op) in d.fast]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=3,
                    alpha=0.25, label="spl_kmem (default backing)", zorder=0)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(d.sizes)
        ax.set_xticklabels([hsize(s).replace(" ", "") for s in d.sizes], fontsize=8,
                           rotation=30)
        ax.set_title(title)
        ax.set_xlabel("object size")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("guest ns (= instructions) per alloc+free")
    axes[1].legend(loc="upper left", fontsize=8)
    kern = d.env_f.get("kernel", "?")
    fig.suptitle(f"spl_kmem vs the kernel's allocators: cost per object, one vCPU, "
                 f"qemu -icount (Linux {kern})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def conc_tables(d, out):
    sizes = sorted({s for (_, s, _) in d.conc})
    if not sizes:
        out.append("_No concurrency figures in this run._")
        return
    ncpu = d.env_c.get("cpus", "?")
    out.append(f"Per-object cost with every vCPU busy, as a ratio to SLUB in the same "
               f"repetition set (lower is better; < 1 means faster than SLUB), then "
               f"the absolute median in guest ns (wall clock, {ncpu} vCPUs, no "
               f"-icount).")
    out.append("")
    for test, title in (("par-pair", f"all {ncpu} vCPUs: alloc+free pairs"),
                        ("par-batch", f"all {ncpu} vCPUs: N allocs then N frees"),
                        ("xcpu", "allocated on one vCPU, freed on another "
                                 "(CPU 2k → 2k+1, every pair at once)")):
        out.append(f"**{title}** — ratio to SLUB (absolute ns per object per thread ±spread)")
        out.append("")
        allocs = [a for a in CONC_ALLOCS if any((a, s, test) in d.conc for s in sizes)]
        out.append("| size | " + " | ".join(allocs) + " |")
        out.append("|---" * (len(allocs) + 1) + "|")
        for s in sizes:
            base = d.cmed("slub", s, test)
            cells = []
            for a in allocs:
                r = d.conc.get((a, s, test))
                if not r:
                    cells.append("–")
                    continue
                name = f" ({default_backing(s)[4:]})" if a == "spl" else ""
                cells.append(f"{fratio(ratio(r['med'], base))}{name} "
                             f"({fmt(r['med'])}{spread(r)})")
            out.append(f"| {hsize(s)} | " + " | ".join(cells) + " |")
        out.append("")
    out.append("**Scaling**: cost per object with all vCPUs busy ÷ cost with one thread "
               "in the same boot (1.0 = perfect scaling; the host has "
               f"{d.meta.get('host_cpus', '?')} CPUs for {ncpu} vCPUs, so "
               "values above 1 partly measure the host, equally for every allocator).")
    out.append("")
    allocs = [a for a in CONC_ALLOCS if a != "spl"]
    out.append("| size | test | " + " | ".join(allocs) + " |")
    out.append("|---" * (len(allocs) + 2) + "|")
    for s in sizes:
        for par, solo in (("par-pair", "solo-pair"), ("par-batch", "solo-batch")):
            cells = [fratio(ratio(d.cmed(a, s, par), d.cmed(a, s, solo))) for a in allocs]
            out.append(f"| {hsize(s)} | {par[4:]} | " + " | ".join(cells) + " |")


def lock_table(d, out):
    """Shared-lock acquisitions of spl_kmem per 1,000 objects (its stats)."""
    locks = {(r["alloc"], r["size"], r["test"]): r for r in d.c["locks"]}
    locks = {k: r for k, r in locks.items() if r.get("objs")}
    if not locks:
        return
    ncpu = d.env_c.get("cpus", "?")
    tests = [t for t in ("solo-batch", "par-batch", "par-pair", "xcpu")
             if any(k[2] == t for k in locks)]
    out.append(f"**Shared locks, {ncpu} vCPUs**: acquisitions of spl_kmem's shared "
               "locks (the cache's depot lock and slab lock, as its statistics "
               "`depot_locks` + `slab_locks` count them) per 1,000 objects allocated "
               "and freed, over every measured run of the test; in parentheses those "
               "that found the lock held (`depot_contended` + `slab_contended`). "
               "Counts, unlike wall time, do not depend on how the host schedules "
               "the vCPUs. Virtual-memory-backed caches only (a Linux-slab-backed "
               "cache takes SLUB's locks, which it does not count).")
    out.append("")
    out.append("| size | " + " | ".join(tests) + " |")
    out.append("|---" * (len(tests) + 1) + "|")
    for s in sorted({k[1] for k in locks}):
        cells = []
        for t in tests:
            r = locks.get(("spl-kvmem", s, t))
            if not r:
                cells.append("–")
                continue
            per = r["locks"] * 1000 / r["objs"]
            cont = r["contended"] * 1000 / r["objs"]
            cells.append(f"{fmt(per)} ({fmt(cont)})")
        out.append(f"| {hsize(s)} | " + " | ".join(cells) + " |")
    out.append("")


def mem_tables(d, out):
    for label, recs, env in (("1 vCPU (the -icount boot)", d.f, d.env_f),
                             (f"{d.env_c.get('cpus', '?')} vCPUs", d.c, d.env_c)):
        mem = {(r["alloc"], r["size"]): r for r in recs["mem"]}
        if not mem:
            continue
        sizes = sorted({s for (_, s) in mem})
        out.append(f"**Steady state, {label}**: bytes held ÷ bytes of live objects, after "
                   "L live objects (≈16 MiB) had a random quarter freed and reallocated "
                   "four times. spl_kmem: `splkmem_cache_get_stats()` `bytes` (its slabs; "
                   "for a SLAB-backed cache, the Linux cache's own counters); SLUB: "
                   "`/sys/kernel/slab/<cache>/slabs` × slab size.")
        out.append("")
        out.append("| size | live objects | spl-kvmem | spl-slab | SLUB |")
        out.append("|---|---|---|---|---|")
        for s in sizes:
            cells = []
            for a in ("spl-kvmem", "spl-slab", "slub"):
                r = mem.get((a, s))
                cells.append("–" if not r or r["held"] < 0 else
                             f"{r['held'] / r['live_bytes']:.3f}")
            live = next((mem[(a, s)]["live"] for a in ("slub", "spl-kvmem")
                         if (a, s) in mem), "?")
            out.append(f"| {hsize(s)} | {live} | " + " | ".join(cells) + " |")
        out.append("")
        reap = {(r["alloc"], r["size"]): r for r in recs["reap"]}
        out.append(f"**Burst then reap, {label}**: with the live objects still allocated, "
                   "a burst of ≈64 MiB more is allocated and freed; MiB held by the "
                   "cache at the burst's peak, after the frees (and 50 ms for deferred "
                   "work), and after one reap (`splkmem_cache_reap_now()`, or "
                   "`kmem_cache_shrink()` for SLUB), with the reap's cost in guest µs"
                   + (" (= thousands of instructions)" if env is d.env_f else "") + ".")
        out.append("")
        out.append("| size | allocator | live MiB | peak | after free | reap returned "
                   "| after reap | reap µs |")
        out.append("|---|---|---|---|---|---|---|---|")
        for s in sizes:
            for a in ("spl-kvmem", "spl-slab", "slub"):
                r = reap.get((a, s))
                if not r:
                    continue
                live = r["live"] * s
                returned = r["after_free"] - r["after_reap"]
                out.append(f"| {hsize(s)} | {a} | {fmt_mib(live)} | {fmt_mib(r['peak'])} | "
                           f"{fmt_mib(r['after_free'])} | {fmt_mib(returned)} | "
                           f"{fmt_mib(r['after_reap'])} | {r['reap_ns'] / 1000:,.0f} |")
        out.append("")


def ctl_records(d):
    """The R ctl lines of both boots, each with its boot's kernel and vCPUs."""
    out = []
    for boot, recs, env, qemu in (("fast", d.f, d.env_f, d.meta.get("fast_qemu", "")),
                                  ("conc", d.c, d.env_c, d.meta.get("conc_qemu", ""))):
        for r in recs["ctl"]:
            r = dict(r)
            r["boot"] = boot
            r["cpus"] = env.get("cpus", "?")
            r["kernel"] = env.get("kernel", "?")
            r["icount"] = "-icount" in qemu or boot == "fast"
            out.append(r)
    return out


def boot_label(r):
    clock = "-icount, ms = M instructions" if r["icount"] else "real time"
    return f"{r['cpus']} vCPU{'s' if r['cpus'] != 1 else ''}, {clock}"


def ms(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ctl_section(d, out):
    recs = ctl_records(d)
    out.append("## 4. Control plane")
    out.append("")
    if not recs:
        out.append("_No control-plane figures in this run_ (the `control` stage of "
                   "`tests/bench/run.sh` prints `R ctl` lines; see its console logs).")
        out.append("")
        return
    kern = recs[0]["kernel"]
    out.append(f"Userspace against the module in the same guests (Linux {kern}), from a "
               "stage that runs after the module benchmarks: "
               "**`splkmemctl -j list >/dev/null`** with 1, 100 and 10,000 caches "
               "(empty KVMEM caches of `tests/genl/kmod`'s `ncaches=`), timed by "
               "`tests/bench/ctltime` from `fork()` to the child's exit with "
               "`CLOCK_MONOTONIC`: the whole command, process start, generic netlink "
               "family lookup, the dump and the JSON output, after one untimed run; "
               "and **PSI event → reap finished**: spl-kmemd watching "
               "`/proc/pressure/memory` (`some` 100 ms in a 500 ms window, no "
               "cooldown, `caches = all`) while a memory hog runs in 2 s episodes in a "
               "cgroup whose `memory.high` is a third of its size; each figure is the "
               "daemon's own `returned in N ms`, from the event loop waking up for the "
               "PSI event to the module's reply to the reap request.")
    out.append("")
    out.append("| measurement | boot | caches | median ms | spread | p99 ms | min–max ms | n |")
    out.append("|---|---|---|---|---|---|---|---|")
    names = {"list": "`splkmemctl -j list`", "list-text": "`splkmemctl list` (table)",
             "raw-dump": "raw dump (`nldump`)", "psi": "PSI event → reap finished"}
    for r in recs:
        what = names.get(r.get("what"), str(r.get("what")))
        p99 = ms(r.get("p99"))
        if r.get("what") == "psi" and r.get("reps", 0) < 100:
            p99 += " (= max)"
        nc = r.get("caches", "–")
        nc = f"{nc:,}" if isinstance(nc, int) else nc
        out.append(f"| {what} | {boot_label(r)} | {nc} | "
                   f"**{ms(r.get('med'))}** | {spread(r).strip() or '–'} | {p99} | "
                   f"{ms(r.get('min'))}–{ms(r.get('max'))} | {r.get('reps')} |")
    out.append("")
    out.append("Spread as elsewhere: half the interquartile range over the median. "
               "With fewer than 100 figures the 99th percentile (nearest rank) is the "
               "largest figure.")
    out.append("")

    notes = []
    for boot in ("fast", "conc"):
        lst = {r["caches"]: r for r in recs if r["boot"] == boot and r.get("what") == "list"}
        if len(lst) >= 2:
            lo, hi = min(lst), max(lst)
            per = (lst[hi]["med"] - lst[lo]["med"]) / (hi - lo) * 1000
            r = lst[hi]
            unit = "thousand instructions" if r["icount"] else "µs"
            notes.append(f"- **Dump cost per cache ({boot_label(r)})**: "
                         f"({ms(lst[hi]['med'])} − {ms(lst[lo]['med'])} ms) ÷ "
                         f"{hi - lo:,} caches = **{per:.1f} {unit}** per cache; the "
                         f"fixed cost of a run with {lo} cache{'s' if lo != 1 else ''} is "
                         f"{ms(lst[lo]['med'])} ms, so at {hi:,} caches "
                         f"{(lst[hi]['med'] - lst[lo]['med']) / lst[hi]['med'] * 100:.1f}% "
                         f"of the time goes to the caches themselves.")
        txt = [r for r in recs if r["boot"] == boot and r.get("what") == "list-text"]
        raw = [r for r in recs if r["boot"] == boot and r.get("what") == "raw-dump"]
        if txt and raw and txt[0]["caches"] in lst:
            n = txt[0]["caches"]
            j, t, w = lst[n]["med"], txt[0]["med"], raw[0]["med"]
            unit = "thousand instructions" if raw[0]["icount"] else "µs"
            notes.append(f"- **Where it goes, {n:,} caches ({boot_label(raw[0])})**, per "
                         f"cache: {j / n * 1000:.1f} {unit} for `-j list`; the raw dump "
                         f"alone (the module's dumpit, netlink, receiving; `nldump` with "
                         f"a 4 KiB buffer like libnl's) {w / n * 1000:.1f} "
                         f"({w / j * 100:.0f}%); the library's parsing and a table "
                         f"(`splkmemctl list`) {(t - w) / n * 1000:.1f} "
                         f"({(t - w) / j * 100:.0f}%); JSON instead of the table "
                         f"{(j - t) / n * 1000:.1f} ({(j - t) / j * 100:.0f}%).")
    for r in recs:
        if r.get("what") != "psi":
            continue
        notes.append(f"- **PSI → reap ({boot_label(r)})**: median {ms(r['med'])} ms, "
                     f"p99 {ms(r['p99'])} ms over {r['reps']} reaps of {r['caches']} "
                     f"caches in {r.get('episodes', '?')} pressure episodes. They "
                     f"returned {fmt_mib(r.get('bytes', 0))} MiB in all, "
                     f"{fmt_mib(r.get('first_bytes', 0))} MiB of it at the first reap "
                     f"({ms(r.get('first'))} ms): the objects the test module freed. "
                     + ("The later reaps found nothing to return, so the median is the "
                        "cost of a reap with nothing to free: the daemon's request and "
                        f"the module's walk over the {r['caches']} caches."
                        if r.get("bytes", 0) == r.get("first_bytes", -1) else ""))
    out.extend(notes)
    out.append("")
    hc = d.meta.get("host_cpus", "?")
    nc = d.env_c.get("cpus", "?")
    out.append("How to read them: in the `-icount` boot a millisecond is a million "
               "guest instructions (of every task on the vCPU), so those figures repeat "
               f"from run to run; the {nc}-vCPU boot is wall-clock time of an emulated "
               f"guest on {hc} host CPUs, slower than hardware by an unknown factor and "
               "as noisy as the host, so only its ratios mean much. The PSI "
               "figure starts when the daemon is woken; the kernel itself notices a "
               "crossed threshold only at its next PSI poll (every tenth of the "
               "window, 50 ms here), and the window limits events to one per 500 ms; "
               "neither is the daemon's cost. With one vCPU the daemon shares it with "
               f"the hog and the kernel's reclaim, with {nc} it has one of its own.")
    out.append("")


def why_section(d, out):
    """The explanations, each backed by this run's own figures."""
    null = d.med("null", 64, "pair")
    out.append("## Where spl_kmem wins, where it loses, and why")
    out.append("")
    wins, losses, target = verdicts(d)
    out.append("Single CPU, spl_kmem with its default backing against a SLUB cache of "
               "the same object size:")
    out.append("")
    out.append("- **wins**: " + ("; ".join(wins) if wins else "none") + ".")
    out.append("- **loses**: " + ("; ".join(losses) if losses else "none") + ".")
    out.append("- **targets missed** (from 16 KiB up not slower than SLUB; from 128 KiB "
               "up at least 20x faster than vmalloc): "
               + ("; ".join(target) if target else "none") + ".")
    out.append("")

    kv = d.med("spl-kvmem", 131072, "pair")
    sl = d.med("slub", 131072, "pair")
    sn = d.med("slub-noinit", 131072, "pair")
    if kv and sl and sn:
        out.append(f"**Pairs: the magazine.** A KVMEM alloc+free pair is a magazine hit: "
                   f"{fmt(kv)} instructions whatever the size (the benchmark loop itself "
                   f"costs {fmt(null)}). SLUB's pair at 128 KiB costs {fmt(sl)}, but "
                   f"{fmt(sn)} with an empty constructor, which turns Debian's "
                   f"`init_on_alloc` zeroing off for that cache: almost all of SLUB's cost "
                   f"for large objects is zeroing each object as it is handed out. "
                   f"spl_kmem never zeroes a recycled object (a Solaris cache hands out "
                   f"constructed objects; a caller that wants zeroes pays for them in its "
                   f"constructor), so much of its lead over SLUB is work it does not do "
                   f"rather than the same work done faster. Against the uninitialised SLUB "
                   f"cache the magazine still wins, {fmt(kv)} vs {fmt(sn)}.")
        out.append("")

    over = []
    for s in d.sizes:
        a, b = d.med("spl-slab", s, "pair"), d.med("slub", s, "pair")
        if a is not None and b is not None:
            over.append(a - b)
    if over:
        sp, sb = d.med("spl-slab", 64, "pair"), d.med("slub", 64, "pair")
        span = fmt(min(over))
        if fmt(max(over)) != span:
            span += "–" + fmt(max(over))
        out.append(f"**Linux-slab backing: a wrapper's cost.** A SLAB-backed spl_kmem cache "
                   f"is a Linux kmem_cache behind spl_kmem's entry points; it costs "
                   f"{span} instructions more per pair than the "
                   f"bare kmem_cache at every size (the exported call, the backing and "
                   f"constructor checks, the per-CPU object count kept for "
                   f"`splkmem_cache_inuse()`). That is "
                   f"{fratio(ratio(sp, sb))} of SLUB at 64 B ({fmt(sp)} vs {fmt(sb)}) and "
                   f"noise at 1 MiB. Where the default backing is the Linux slab, spl_kmem "
                   f"can only lose to SLUB by that much; it is there for its packing "
                   f"(see Memory), not its speed.")
        out.append("")

    rows, regrow = [], []
    for s in d.sizes:
        st = d.faststat.get(("spl-kvmem", s))
        if not st or not st.get("batches"):
            continue
        per = st["slab_create"] / st["batches"]
        if per >= 1:
            regrow.append(s)
        rows.append(f"| {hsize(s)} | {fmt(d.med('spl-kvmem', s, 'batch'))} | "
                    f"{fmt(d.med('spl-kvmem', s, 'pair'))} | {st['mag_size']} | "
                    f"{st['slab_objs']} | {st['slab_size'] // 1024:,} KiB | "
                    f"{fmt(per)} | {fmt(st['slab_destroy'] / st['batches'])} |")
    if rows:
        if regrow:
            out.append("**Batches on virtual-memory slabs: the slow path.** A batch "
                       "overflows the per-CPU magazine. The overflow goes back to the "
                       "slabs, and empty slabs beyond a reserve of half a magazine per CPU "
                       "are freed by a deferred trim as soon as it runs, so the next batch "
                       "grows the cache again: a round trip to the growth worker and a "
                       "`vmalloc()` of a whole slab, its pages zeroed by `init_on_alloc`, "
                       "and later a `vfree()`. The cache's own counters over the timed "
                       f"batches show it at {', '.join(hsize(s) for s in regrow)}:")
        else:
            out.append("**Batches on virtual-memory slabs.** A batch overflows the "
                       "per-CPU magazine and goes through the slab lists, but the empty "
                       "slabs stay with the cache between batches, so no batch goes back "
                       "to `vmalloc()`; the cache's own counters over the timed batches:")
        out.append("")
        out.append("| size | batch ns/object | pair ns/object | magazine | objects/slab "
                   "| slab | slabs created per batch | slabs freed per batch |")
        out.append("|---|---|---|---|---|---|---|---|")
        out.extend(rows)
        out.append("")
        if regrow:
            big = [s for s in regrow if s >= 131072]
            if big:
                s = big[0]
                out.append(f"So a cache whose working set swings by more than a magazine "
                           f"pays `vmalloc` + `vfree` for most of its objects on every "
                           f"swing: at {hsize(s)} a batch costs "
                           f"{fmt(d.med('spl-kvmem', s, 'batch'))} per object, "
                           f"{fratio(ratio(d.med('vmalloc', s, 'batch'), d.med('spl-kvmem', s, 'batch')))} "
                           f"less than vmalloc's {fmt(d.med('vmalloc', s, 'batch'))}, not 20x. "
                           f"A cure is to keep empty slabs for a while (free those that "
                           f"stayed empty for some seconds; reap and the shrinker still "
                           f"free them at once) and to refill from the most recently "
                           f"emptied slab so that old ones age out.")
                out.append("")

    vm = d.med("vmalloc", 64, "pair")
    if vm:
        out.append(f"**vmalloc** costs {fmt(vm)} instructions even for 64 B: every call "
                   f"finds and maps a virtual area and allocates whole pages (zeroed), "
                   f"and every `vfree()` unmaps them and queues a lazy TLB flush. That is "
                   f"what a KVMEM slab amortises over its objects.")
        out.append("")

    mem = {(r["alloc"], r["size"]): r for r in d.f["mem"]}
    reap = {(r["alloc"], r["size"]): r for r in d.f["reap"]}
    if mem:
        r64 = mem.get(("spl-kvmem", 64))
        line = ("**Memory.** SLUB and SLAB-backed spl_kmem caches hold within a page or "
                "two of their live objects. KVMEM slabs add a 24-byte header to every "
                "object and round each slab to pages")
        if r64 and r64["held"] > 0:
            line += (f": {r64['held'] / r64['live_bytes']:.2f} bytes held per live byte "
                     f"at 64 B, falling to ≈1.00 at 128 KiB and above")
        line += ". "
        held = []
        for s in sorted({s for (_, s) in reap}):
            k, u = reap.get(("spl-kvmem", s)), reap.get(("slub", s))
            mk, mu = mem.get(("spl-kvmem", s)), mem.get(("slub", s))
            if k and u and mk and mu:
                held.append(f"{hsize(s)}: {fmt_mib(k['after_free'] - mk['held'])} "
                            f"vs {fmt_mib(u['after_free'] - mu['held'])}")
        if held:
            line += ("After a ≈64 MiB burst is freed, the MiB a cache holds beyond what it "
                     "held for the same live objects before the burst, until a reap "
                     "(spl-kvmem vs SLUB): " + "; ".join(held) +
                     ". One reap returns it, at the cost of a `vfree()` per slab.")
        out.append(line)
        out.append("")

    sizes = sorted({s for (_, s, _) in d.conc})
    if sizes:
        spreads = sorted(spread_pct(r) for r in d.c["conc"] if r.get("med"))
        medsp = spreads[len(spreads) // 2] if spreads else 0
        out.append(f"**Concurrency.** These figures are wall-clock time of "
                   f"{d.env_c.get('cpus', '?')} vCPUs emulated on "
                   f"{d.meta.get('host_cpus', '?')} host CPUs; the typical spread is "
                   f"±{medsp:.0f}%, so only differences well beyond it mean anything.")
        out.append("")
        for test, what in (("par-pair", "all vCPUs doing pairs"),
                           ("par-batch", "all vCPUs doing batches"),
                           ("xcpu", "cross-CPU frees")):
            parts = []
            for s in sizes:
                r = ratio(d.cmed("spl", s, test), d.cmed("slub", s, test))
                if r is not None:
                    parts.append(f"{hsize(s)} {fratio(r)}")
            if parts:
                out.append(f"- spl_kmem (default) ÷ SLUB, {what}: " + ", ".join(parts) + ".")
        slow = [s for s in sizes if default_backing(s) == "spl-kvmem" and
                (ratio(d.cmed("spl", s, "par-batch"), d.cmed("slub", s, "par-batch")) or 0) > 1]
        if slow:
            out.append("")
            out.append("Where spl_kmem loses with every vCPU doing batches ("
                       + ", ".join(hsize(s) for s in slow) + "), the single-CPU cause "
                       "above is multiplied: each CPU's overflow frees slabs that the "
                       "next burst re-grows through one growth worker per cache, and "
                       "the waiting CPUs queue behind it.")
        out.append("")


def write_md(d, path, png_name):
    out = []
    m = d.meta
    ef, ec = d.env_f, d.env_c
    out.append("# Benchmarks")
    out.append("")
    out.append("Generated by `make bench` (`tests/bench/run.sh`, `tests/bench/report.py`) "
               "from one run; do not edit by hand. spl_kmem against the kernel's own "
               "allocators, measured side by side by an in-kernel benchmark module "
               "(`tests/bench/kmod/`, never shipped) in qemu guests.")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    out.append(f"| date, commit | {m.get('date', '?')}, {m.get('commit', '?')} |")
    out.append(f"| guest kernel | Linux {ef.get('kernel', ec.get('kernel', '?'))} (Debian), "
               f"HZ={ef.get('hz', '?')}, init_on_alloc={ef.get('init_on_alloc', '?')}, "
               "slub_debug off |")
    sp = d.spl
    if sp:
        out.append(f"| spl_kmem tunables | slab_limit={sp.get('slab_limit')}, "
                   f"magazine_size={sp.get('magazine_size')}, "
                   f"obj_per_slab={sp.get('obj_per_slab')}, max_size={sp.get('max_size')} |")
    out.append(f"| single-CPU boot | {ef.get('cpus', '?')} vCPU, `{m.get('fast_qemu', '?')}`, "
               f"{ef.get('reps', '?')} repetitions |")
    out.append(f"| concurrency boot | {ec.get('cpus', '?')} vCPUs, `{m.get('conc_qemu', '?')}`, "
               f"{ec.get('reps', '?')} repetitions |")
    out.append(f"| host | {m.get('host_cpu', '?')}, {m.get('host_cpus', '?')} CPUs, "
               f"{m.get('qemu', '?')} (TCG) |")
    out.append(f"| run time | {m.get('seconds', '?')} s for the whole `make bench` |")
    out.append("")
    out.append("**How to read the figures.** Under TCG the guest clock is emulated. The "
               "single-CPU boot uses `-icount shift=0`: the guest clock advances one "
               "nanosecond per executed instruction, so its figures are instruction "
               "counts (of every thread on the CPU, deferred workers included), and they "
               "repeat between runs; they are not the time the same code takes on real "
               "hardware, where cache misses and page-table walks dominate large "
               "objects. The concurrency boot runs in real time; only ratios within it "
               "mean anything. Each figure is the median of the repetitions; ±x% is "
               "half the interquartile range relative to the median (the plot's error "
               "bars show min and max). The raw lines, with min, max and quartiles, are "
               "in `build/bench/*/console.txt`.")
    out.append("")
    out.append("Allocators: **spl-kvmem** = spl_kmem cache on virtual-memory slabs "
               "(`SPLKMEM_KMC_KVMEM`); **spl-slab** = spl_kmem cache on a Linux "
               "kmem_cache (`SPLKMEM_KMC_SLAB`); **spl_kmem (default)** = whichever "
               "of the two `splkmem_cache_create()` picks with no flag (SLAB below "
               "`slab_limit`); "
               "**slub** = a kmem_cache of its own (unmerged); **slub-noinit** = the same "
               "with an empty constructor, which makes SLUB skip the `init_on_alloc` "
               "zeroing; kmalloc, kvmalloc, vmalloc as called by a driver.")
    out.append("")
    out.append("**spl-kvmem-nodebug** = the same cache with `SPLKMEM_KMC_NODEBUG`: its frees skip "
               "the double-free and foreign-object checks (header and slab read without "
               "faulting, one cmpxchg); the difference to spl-kvmem is what those checks cost.")
    out.append("")

    out.append("## 1. Fast path, one CPU")
    out.append("")
    out.append(f"![cost per object against object size]({png_name})")
    out.append("")
    npair = d.med("null", 64, "pair")
    out.append("**alloc+free pairs**: guest ns (= instructions) per alloc+free. "
               f"The loop alone (the `null` allocator) costs {fmt(npair)}.")
    out.append("")
    fast_table(d, "pair", out)
    out.append("")
    out.append("**batches**: N allocations, then the N frees in allocation order "
               "(N = 256; 64 at 1 MiB), repeated; guest ns per object.")
    out.append("")
    fast_table(d, "batch", out)
    out.append("")
    out.append("**Ratios** (> 1 means the left-hand side costs more):")
    out.append("")
    fast_ratio_table(d, out)
    out.append("")

    out.append("## 2. Concurrency")
    out.append("")
    conc_tables(d, out)
    out.append("")
    lock_table(d, out)
    out.append("## 3. Memory")
    out.append("")
    mem_tables(d, out)
    ctl_section(d, out)
    why_section(d, out)
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", required=True, help="console log of the -icount boot")
    ap.add_argument("--conc", help="console log of the multi-vCPU boot")
    ap.add_argument("--meta", help="key=value facts about the run")
    ap.add_argument("--md", required=True)
    ap.add_argument("--png", required=True)
    args = ap.parse_args()
    d = Data(args.fast, args.conc, args.meta)
    if not d.fast:
        sys.exit(f"report.py: no 'R fast' lines in {args.fast}")
    plot(d, args.png)
    import os
    write_md(d, args.md, os.path.basename(args.png))


if __name__ == "__main__":
    main()
