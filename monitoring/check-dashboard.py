#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check the Grafana dashboard and the alert rules against PromQL and the daemon.

  check-dashboard.py [--promtool PROMTOOL] [--daemon-src DIR] DASHBOARD RULES

1. The dashboard's structure: a datasource variable of type prometheus, the
   instance and cache variables, unique panel ids, every panel and target on
   ${datasource}, every target with an expression.
2. Every PromQL expression of the dashboard (panel targets and the queries
   of its variables), with Grafana's variables replaced by values, goes into
   a generated rules file, one recording rule each, which
   "promtool check rules" must accept: a query that does not parse fails,
   named by its panel.
3. Every spl_kmem_* / spl_kmemd_* metric that the dashboard or RULES use is
   one the daemon exports (a name in DIR/*.c, default ../daemon), or listed
   in pending-metrics.txt next to this script (announced by the daemon's
   branch, not yet merged).

Prints one line per problem and a summary; exits 1 on a problem.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INTERVALS = ("__rate_interval", "__interval", "__range")
METRIC_RE = re.compile(r"\b(spl_kmemd?_[a-z0-9_]+)\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

problems = []


def problem(msg):
    problems.append(msg)
    print(f"FAIL {msg}")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def substitute(expr):
    """Grafana's variables by values PromQL accepts in their places."""
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return "5m" if name in INTERVALS else ".+"
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def variable_query(q):
    """The PromQL inside a Prometheus variable query, or None."""
    if isinstance(q, dict):
        q = q.get("query", "")
    q = q.strip()
    m = re.fullmatch(r"label_values\((.*),\s*\w+\s*\)", q, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"query_result\((.*)\)", q, re.S)
    if m:
        return m.group(1)
    if re.fullmatch(r"(label_names|metrics)\(.*\)|label_values\(\s*\w+\s*\)", q, re.S):
        return None
    return q


def check_structure(dash):
    if dash.get("schemaVersion", 0) < 42:
        problem(f"schemaVersion {dash.get('schemaVersion')}: want 42 (Grafana 13's classic model) or later")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problem("no datasource variable of type prometheus named 'datasource'")
    for name in ("instance", "cache"):
        if name not in variables:
            problem(f"no '{name}' variable")
    ids = {}
    for p in walk_panels(dash.get("panels", [])):
        title = p.get("title", "?")
        if p.get("id") in ids:
            problem(f"panel '{title}': id {p.get('id')} also used by '{ids[p.get('id')]}'")
        ids[p.get("id")] = title
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            problem(f"panel '{title}': datasource is not ${{datasource}}")
        if not p.get("targets"):
            problem(f"panel '{title}': no queries")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                problem(f"panel '{title}' query {t.get('refId')}: datasource is not ${{datasource}}")
            if not t.get("expr", "").strip():
                problem(f"panel '{title}' query {t.get('refId')}: no expression")


def expressions(dash):
    """(where, expr) for every PromQL expression of the dashboard."""
    out = []
    for p in walk_panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr", "").strip():
                out.append((f"panel {p.get('id')} '{p.get('title')}' query {t.get('refId')}", t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = variable_query(v.get("query", ""))
            if q:
                out.append((f"variable '{v.get('name')}'", q))
    return out


def check_promql(exprs, promtool):
    """One recording rule per expression; promtool check rules on them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard.rules.yml")
        with open(path, "w") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (where, expr) in enumerate(exprs):
                f.write(f"      # {where}\n")
                f.write(f"      - record: dashboard_query_{i}\n")
                # JSON strings are valid YAML double-quoted scalars.
                f.write(f"        expr: {json.dumps(substitute(expr))}\n")
        r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
        if r.returncode:
            for m in re.finditer(r"dashboard_query_(\d+)", r.stdout + r.stderr):
                i = int(m.group(1))
                problem(f"{exprs[i][0]}: promtool does not accept {exprs[i][1]!r}")
            problem("promtool check rules on the dashboard's queries: "
                    + " ".join((r.stdout + r.stderr).split())[:600])
            return 0
        n = re.search(r"SUCCESS: (\d+) rules found", r.stdout)
        if not n or int(n.group(1)) != len(exprs):
            problem(f"promtool found {n and n.group(1)} rules, expected {len(exprs)}")
        return len(exprs)


def known_metrics(src):
    names = set()
    for path in glob.glob(os.path.join(src, "*.c")):
        text = open(path).read()
        names.update(re.findall(r'"(spl_kmemd?_[a-z0-9_]+)', text))
        # metrics.c's per-cache table: M("objects", ...) is spl_kmem_cache_objects.
        names.update("spl_kmem_cache_" + n for n in re.findall(r'\bM\("([a-z0-9_]+)"', text))
    return names


def pending_metrics():
    path = os.path.join(HERE, "pending-metrics.txt")
    if not os.path.exists(path):
        return set()
    return {line.split("#")[0].strip() for line in open(path)} - {""}


def check_names(used, src):
    known = known_metrics(src)
    if not known:
        problem(f"no metric names found in {src}/*.c")
        return
    pending = pending_metrics()
    for name in sorted(used):
        base = name
        for s in HISTOGRAM_SUFFIXES:
            if name.endswith(s) and name[: -len(s)] in known | pending:
                base = name[: -len(s)]
        if base in known:
            continue
        if base in pending:
            print(f"note: {name} is not exported by {src} yet (pending-metrics.txt)")
            continue
        problem(f"metric {name} is used but spl-kmemd does not export it")
    for name in sorted(pending & known):
        print(f"note: {name} is exported now: remove it from pending-metrics.txt")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("--daemon-src", default=os.path.join(HERE, "..", "daemon"))
    ap.add_argument("dashboard")
    ap.add_argument("rules")
    a = ap.parse_args()
    with open(a.dashboard) as f:
        dash = json.load(f)
    check_structure(dash)
    exprs = expressions(dash)
    n = check_promql(exprs, a.promtool)
    with open(a.rules) as f:
        rules_text = f.read()
    used = set()
    for _, e in exprs:
        used.update(METRIC_RE.findall(e))
    # Names in expressions of the rules, not in their annotations.
    for expr in re.findall(r"expr:\s*(?:>-\s*\n((?:\s{10,}.*\n)+)|(.*))", rules_text):
        used.update(METRIC_RE.findall(expr[0] or expr[1]))
    check_names(used, a.daemon_src)
    print(f"dashboard: {n} PromQL expressions accepted by promtool, "
          f"{len(used)} spl-kmem metric names checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
