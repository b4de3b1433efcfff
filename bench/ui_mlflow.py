"""Client side of bench/ui_mlflow.sh: the MLflow UI and Flywheel's web UI, side by side in headless
Chromium, on an experiment of RUNS runs logged the same way to both.

    python ui_mlflow.py populate --uri URL --runs N --threads T --out FILE.json     (bench/.venv-mlflow)
    python ui_mlflow.py browse --flywheel URL --mlflow URL --out FILE.json [knobs]   (.venv-ui: Selenium)
    python ui_mlflow.py report --populate-dir DIR --browse FILE.json --meta META.tsv --json OUT.json

populate  creates the experiment "ui-bench" and RUNS runs in it with the mlflow client, THREADS client
          threads: MlflowClient.create_run (run name bench-run-00000 …, two tags) + one log_batch of
          10 params and 10 metrics. Values come from random.Random(i), start times from a fixed
          base + i s, so both servers hold the same runs; then it counts them back with search_runs.
browse    one headless Chromium (1280×800, the flags scripts/ui_browser_check.py uses), both UIs in
          turn: one warm-up load each (not counted), then REPEATS rounds of one load of each, the
          order swapped every round (a load drift on a shared machine hits both alike). Each load
          starts from about:blank; with --cache cold (the default) the HTTP cache and the origin's
          storage (localStorage, IndexedDB, cookies, …) are cleared first, so every load is a
          first visit with a warm browser process; with --cache warm nothing is cleared.
report    the markdown table (stdout) and the JSON file.

How a load is timed. Before the page's own scripts run (CDP Page.addScriptToEvaluateOnNewDocument)
a small script is put in every document of the UI's origin. It watches the DOM (MutationObserver)
and checks on every animation frame (requestAnimationFrame) whether the runs table shows its first
rows: at least FIRST_ROWS (default 5, or RUNS if fewer) rows that each carry a link to a run whose
text is one of the bench's run names ("bench-run-NNNNN"). Five rows fit in the first screen of both
UIs in the 1280×800 window (Flywheel shows 6, MLflow 8), so "the first 5 rows are painted" means
the first screen of the table is on screen; a larger FIRST_ROWS counts rows painted below the fold
too (Chromium paints, and reports, somewhat beyond the viewport).
  Flywheel   `table.runs tbody tr` that holds `a[href^="/runs/"]` with a bench run name. The page is
             server-rendered HTML: the rows are in the document as it is parsed.
  MLflow     ag-grid rows, `.ag-root [role=row][row-id]` that hold `a[href*="/runs/"]` with a bench
             run name (distinct row-id: ag-grid splits a row over its pinned-left/centre/right
             containers). They exist only once the React app has loaded its bundles, fetched the
             experiment and searched its runs: no skeleton or placeholder row has a row-id and a
             run link, so this means the data rows are rendered. What the page holds then
             (MLflow 3.17.2, #/experiments/1/runs, abridged):
               <div class="ag-pinned-left-cols-container" role="rowgroup">
                 <div class="ag-row-even ag-row ag-row-level-0 ag-row-position-absolute ag-row-first"
                      aria-rowindex="3" role="row" row-index="0" row-id="59fa900d19ed4c2192902e464727b8ff">
                   <div class="ag-cell … is-checkbox-cell" role="gridcell" col-id="1">…checkbox, hide/pin…</div>
                   <div class="ag-cell …" role="gridcell" col-id="attributes.`Run Name`">
                     …<a href="#/experiments/1/runs/59fa900d19ed4c2192902e464727b8ff">
                        <span class="css-1o4wo1x">bench-run-00299</span></a>…</div>
                   <div class="ag-cell … ag-cell-last-left-pinned is-ordered-by" col-id="runDateAndNestInfo">…</div>
                 </div> … 96 more rows (the first 100 runs are loaded, the grid renders ~97) …
               </div>
               <div class="ag-center-cols-container" role="rowgroup"> the same row-ids: Dataset,
                 Duration, Source, Models … </div>
               … and under the grid "100 matching runs".
Times are in milliseconds since the page's navigation started (performance.timeOrigin; the page's
performance.now() and the timeline's entries):
  shown        when the rows were painted: the run-name links of the rows (and their cells) get the
               elementtiming attribute as they enter the DOM, before they can be painted (mutation
               callbacks run before the next rendering step), and Chromium's Element Timing reports
               when each was first painted (renderTime); shown is the FIRST_ROWS-th earliest of those.
               The figure the table reports.
  dom          the first moment FIRST_ROWS such rows were in the DOM (MutationObserver callback)
  frame        the first animation frame (requestAnimationFrame callback) that began with them in the
               DOM; after_frame, a task posted from that callback (MessageChannel): after its rendering
Also FCP (the paint timing entry), DOMContentLoaded and the load event.
Requests and bytes come from the Resource Timing API (its buffer raised so that none is dropped):
the navigation's transferSize plus every resource entry's (headers + encoded body, what came over
the wire; 0 for what the HTTP cache served), counted twice: "by shown", those whose response had
ended when the rows were painted; "all", every entry once the page is quiet (no new entry for
QUIET_MS, at most SETTLE_MS after the rows were shown); requests count every entry, what the cache
served included (with --cache warm those cost 0 bytes). As a cross-check the DevTools protocol's
network events of the same load are summed too (cdp_*: every request but data: URLs, a web
worker's script included, which Resource Timing does not list; encodedDataLength).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

RUN_PREFIX = "bench-run-"


# ---------------------------------------------------------------------------------------
# populate (bench/.venv-mlflow)


def populate(a):
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=a.uri)
    exp = client.create_experiment("ui-bench")
    base = 1_767_225_600_000  # 2026-01-01 00:00 UTC: the same start times on both servers

    def make(i):
        rng = random.Random(i)
        t = base + i * 1000
        rid = client.create_run(exp, start_time=t, run_name=f"{RUN_PREFIX}{i:05d}",
                                tags={"team": rng.choice(["vision", "nlp", "tabular"]), "seed": str(i)}).info.run_id
        client.log_batch(
            rid,
            metrics=[Metric(f"metric_{j}", rng.random(), t + 500, 0) for j in range(10)],
            params=[Param(f"param_{j}", str(rng.choice([rng.randint(1, 512), rng.choice(["adam", "sgd", "rmsprop"])])))
                    for j in range(10)],
            synchronous=True)

    t0 = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, a.threads)) as pool:
        for _ in pool.map(make, range(a.runs)):
            done += 1
            if done % 1000 == 0:
                print(f"   {done} runs, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - t0
    # Count them back (pages of 1000, the API's limit).
    n, token = 0, None
    while True:
        page = client.search_runs([exp], max_results=1000, page_token=token)
        n += len(page)
        token = page.token
        if not token:
            break
    out = {"experiment_id": exp, "runs": a.runs, "found": n, "seconds": seconds, "threads": a.threads}
    json.dump(out, open(a.out, "w"))
    print(f"   {a.runs} runs in {seconds:.1f} s ({a.runs / seconds:.0f} runs/s), search_runs finds {n}", file=sys.stderr)
    if n != a.runs:
        sys.exit(f"populate: made {a.runs} runs, search_runs finds {n}")


# ---------------------------------------------------------------------------------------
# browse (.venv-ui)

# Put in every document before its own scripts. __ORIGIN__, __KIND__, __K__, __PREFIX__ are filled in.
PROBE = r"""
(() => {
  if (window.top !== window || location.origin !== "__ORIGIN__") return;
  try { performance.setResourceTimingBufferSize(100000); } catch (e) {}
  const K = __K__, KIND = "__KIND__", PREFIX = "__PREFIX__";
  const st = window.__uib = {dom: null, frame: null, after_frame: null, painted: null, painted_rows: 0, rows: 0, marked: 0,
                             element_timing: typeof PerformanceElementTiming !== "undefined"};
  // The run-name links of the table's rows.
  const LINKS = KIND === "flywheel" ? 'table.runs tbody tr a[href^="/runs/"]' : '.ag-root [role=row][row-id] a[href*="/runs/"]';
  const ROW = KIND === "flywheel" ? "tr" : "[row-id]";
  function count() {
    const ids = new Set();
    for (const a of document.querySelectorAll(LINKS)) {
      if (!a.textContent.trim().startsWith(PREFIX)) continue;
      ids.add(KIND === "flywheel" ? a.getAttribute("href") : a.closest("[row-id]").getAttribute("row-id"));
    }
    return ids.size;
  }
  // Element Timing: a run name's text gets elementtiming before it is first painted (mutation
  // callbacks run before the next rendering step), so the browser reports when it was painted.
  function mark(root) {
    const links = root.matches && root.matches(LINKS) ? [root] : (root.querySelectorAll ? root.querySelectorAll(LINKS) : []);
    for (const a of links) {
      const name = a.textContent.trim();
      if (!name.startsWith(PREFIX) || a.hasAttribute("elementtiming")) continue;
      // Chromium reports text at its block-level container (the table cell), so the link's
      // ancestors up to the row get the attribute too, and the elements inside it.
      const row = a.closest(ROW);
      for (let e = a; e && e !== row; e = e.parentElement) e.setAttribute("elementtiming", name);
      for (const e of a.querySelectorAll("*")) e.setAttribute("elementtiming", name);
      st.marked++;
    }
  }
  const painted = new Map();  // run name → first renderTime
  if (st.element_timing) {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        if (!e.identifier || !e.identifier.startsWith(PREFIX)) continue;
        const t = e.renderTime || e.loadTime;
        if (!painted.has(e.identifier) || t < painted.get(e.identifier)) painted.set(e.identifier, t);
      }
      st.painted_rows = painted.size;
      if (st.painted === null && painted.size >= K) st.painted = [...painted.values()].sort((x, y) => x - y)[K - 1];
    }).observe({type: "element", buffered: true});
  }
  // A run name may also arrive as text put into a link already in the DOM.
  const linkOf = n => n.parentElement && n.parentElement.closest("a");
  const mo = new MutationObserver(records => {
    for (const r of records) {
      if (r.type === "characterData") { const a = linkOf(r.target); if (a) mark(a); continue; }
      for (const n of r.addedNodes) {
        if (n.nodeType === 1) mark(n);
        else if (n.nodeType === 3) { const a = linkOf(n); if (a) mark(a); }
      }
    }
    if (st.dom === null && count() >= K) st.dom = performance.now();
  });
  mo.observe(document, {childList: true, characterData: true, subtree: true});
  function frame() {
    const n = count();
    if (n >= K) {
      st.frame = performance.now();
      st.rows = n;
      if (st.dom === null) st.dom = st.frame;
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { st.after_frame = performance.now(); };
      ch.port2.postMessage(0);
      return;
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  st.stop = () => mo.disconnect();
})();
"""

# Waits for the probe, then for the page to go quiet; returns the load's figures.
COLLECT = r"""
const done = arguments[arguments.length - 1];
const TIMEOUT = arguments[0], QUIET = arguments[1], SETTLE = arguments[2];
const t0 = performance.now();
function resources() { return performance.getEntriesByType("resource"); }
function collect(error) {
  const st = window.__uib || {};
  if (st.stop) st.stop();
  const nav = performance.getEntriesByType("navigation")[0] || {};
  const res = resources();
  const shown = st.painted;
  const paint = performance.getEntriesByType("paint").find(e => e.name === "first-contentful-paint");
  const sum = (list, f) => list.reduce((s, e) => s + (e[f] || 0), 0);
  const at = shown === null || shown === undefined ? [] : res.filter(e => e.responseEnd <= shown);
  const byType = {};
  for (const e of res) {
    const k = e.initiatorType || "other";
    byType[k] = byType[k] || {requests: 0, bytes: 0};
    byType[k].requests++; byType[k].bytes += e.transferSize || 0;
  }
  return {
    error: error || null, url: location.href, shown: shown, rows_painted: st.painted_rows, dom: st.dom, frame: st.frame, after_frame: st.after_frame,
    rows: st.rows, marked: st.marked, element_timing: st.element_timing,
    fcp: paint ? paint.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    response_start: nav.responseStart, response_end: nav.responseEnd,
    html_bytes: nav.transferSize, html_decoded: nav.decodedBodySize, html_encoding: nav.contentEncoding || "",
    requests_at_shown: 1 + at.length, bytes_at_shown: (nav.transferSize || 0) + sum(at, "transferSize"),
    requests_total: 1 + res.length, bytes_total: (nav.transferSize || 0) + sum(res, "transferSize"),
    decoded_total: (nav.decodedBodySize || 0) + sum(res, "decodedBodySize"),
    by_type: byType, settled_at: performance.now(),
  };
}
function waitShown() {
  const st = window.__uib;
  if (st && st.painted !== null && st.after_frame !== null) return settle();
  if (performance.now() - t0 > TIMEOUT) {
    const why = !st ? "the probe did not run" : st.frame === null ? "the rows did not show"
      : !st.element_timing ? "this browser has no Element Timing" : "no Element Timing entry for the rows";
    return done(collect(why + " within the timeout"));
  }
  setTimeout(waitShown, 10);
}
function settle() {
  const shownAt = performance.now();
  let last = resources().length, since = performance.now();
  (function tick() {
    const n = resources().length, now = performance.now();
    if (n !== last) { last = n; since = now; }
    if (now - since >= QUIET || now - shownAt >= SETTLE) return done(collect());
    setTimeout(tick, 50);
  })();
}
waitShown();
"""


CHROME = {}


def make_driver(script_timeout):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    o = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions"]:
        o.add_argument(arg)
    binary = os.environ.get("CHROME_BINARY") or next(
        (p for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] if os.path.exists(p)), None)
    if binary:
        o.binary_location = binary
    CHROME["binary"] = binary or "chrome"
    # The DevTools protocol's network events (what the DevTools network panel counts): every request,
    # a web worker's script too, which the page's Resource Timing does not list.
    o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    path = os.environ.get("CHROMEDRIVER") or next(
        (p for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] if os.path.exists(p)), None)
    d = webdriver.Chrome(service=Service(path) if path else Service(), options=o)
    d.set_page_load_timeout(120)
    d.set_script_timeout(script_timeout)
    return d


def origin_of(url):
    from urllib.parse import urlparse

    u = urlparse(url)
    return f"{u.scheme}://{u.netloc}"


def network_totals(log):
    """Requests sent (data: URLs left out) and bytes received (encodedDataLength: headers + body as
    sent) from the performance log's Network events."""
    sent, got, failed = set(), {}, 0
    for e in log:
        try:
            m = json.loads(e["message"])["message"]
        except (KeyError, ValueError):
            continue
        method, params = m.get("method"), m.get("params", {})
        if method == "Network.requestWillBeSent":
            if not params.get("request", {}).get("url", "").startswith("data:"):
                sent.add(params["requestId"])
        elif method == "Network.loadingFinished":
            got[params["requestId"]] = params.get("encodedDataLength", 0)
        elif method == "Network.loadingFailed":
            failed += 1
    return {"cdp_requests_total": len(sent), "cdp_bytes_total": sum(v for k, v in got.items() if k in sent),
            "cdp_requests_failed": failed}


def browse(a):
    uis = {"flywheel": a.flywheel, "mlflow": a.mlflow}
    k = max(1, min(a.first_rows, a.runs))
    d = make_driver((a.timeout_ms + a.settle_ms) / 1000 + 60)
    binary = os.path.basename(CHROME["binary"])
    result = {"browser": f"{'Chromium' if 'chromium' in binary else d.capabilities.get('browserName')} {d.capabilities.get('browserVersion')}",
              "chromedriver": (d.capabilities.get("chrome") or {}).get("chromedriverVersion", "?").split(" ")[0],
              "viewport": None, "cache": a.cache, "first_rows": k, "repeats": a.repeats,
              "urls": uis, "loads": {name: [] for name in uis}, "warmup": {}}
    try:
        d.execute_cdp_cmd("Network.enable", {})
        for name, url in uis.items():
            src = (PROBE.replace("__ORIGIN__", origin_of(url)).replace("__KIND__", name)
                   .replace("__K__", str(k)).replace("__PREFIX__", RUN_PREFIX))
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": src})

        def load(name):
            url = uis[name]
            d.get("about:blank")
            if a.cache == "cold":
                d.execute_cdp_cmd("Network.clearBrowserCache", {})
                d.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": origin_of(url), "storageTypes": "all"})
            d.get_log("performance")  # drop what came before
            d.get(url)
            r = d.execute_async_script(COLLECT, a.timeout_ms, a.quiet_ms, a.settle_ms)
            r.update(network_totals(d.get_log("performance")))
            return r

        def check(name, r, label):
            if r.get("error"):
                shot = os.path.join(a.shots, f"{name}-failed.png") if a.shots else None
                if shot:
                    d.save_screenshot(shot)
                raise SystemExit(f"browse: {name} ({label}): {r['error']} at {r.get('url')}; rows seen {r.get('rows')}"
                                 + (f"; screenshot {shot}" if shot else ""))

        for name in uis:
            print(f"   warm-up: {name} {uis[name]}", file=sys.stderr)
            r = load(name)
            check(name, r, "warm-up")
            result["warmup"][name] = r
            if a.shots:
                os.makedirs(a.shots, exist_ok=True)
                d.save_screenshot(os.path.join(a.shots, f"{name}.png"))
        result["viewport"] = d.execute_script("return [innerWidth, innerHeight]")
        order = list(uis)
        for i in range(a.repeats):
            for name in (order if i % 2 == 0 else order[::-1]):
                r = load(name)
                check(name, r, f"load {i + 1}")
                result["loads"][name].append(r)
            print(f"   round {i + 1}/{a.repeats}: " + ", ".join(
                f"{n} {result['loads'][n][-1]['shown']:.0f} ms" for n in order), file=sys.stderr)
    finally:
        d.quit()
    json.dump(result, open(a.out, "w"), indent=1)


# ---------------------------------------------------------------------------------------
# report


def pct(xs, p):
    """The p-th percentile, nearest rank (p95 of 10 samples is the largest)."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    import math

    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"p50": statistics.median(xs), "p95": pct(xs, 95), "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt_ms(x):
    if x is None:
        return "–"
    return f"{x:,.0f} ms" if x >= 100 else f"{x:.1f} ms"


def fmt_bytes(b):
    if b is None:
        return "–"
    if b >= 1_000_000:
        return f"{b / 1_000_000:.2f} MB"
    return f"{b / 1000:.1f} KB"


def report(a):
    meta = {}
    for line in open(a.meta):
        k, _, v = line.rstrip("\n").partition("\t")
        meta[k] = v.replace("\\n", "\n")
    pop = {}
    for name in ("flywheel", "mlflow"):
        p = os.path.join(a.populate_dir, f"populate_{name}.json")
        pop[name] = json.load(open(p)) if os.path.exists(p) else None
    b = json.load(open(a.browse))
    fields = ["shown", "dom", "frame", "after_frame", "fcp", "dcl", "load", "response_start", "response_end",
              "requests_at_shown", "bytes_at_shown", "requests_total", "bytes_total", "cdp_requests_total",
              "cdp_bytes_total", "decoded_total", "html_bytes"]
    uis = {}
    for name, loads in b["loads"].items():
        uis[name] = {"url": b["urls"][name], "populate": pop.get(name),
                     "stats": {f: stats([l.get(f) for l in loads]) for f in fields}, "loads": loads}
    fw, ml = uis["flywheel"]["stats"], uis["mlflow"]["stats"]
    ratio = {"shown_p50": ml["shown"]["p50"] / fw["shown"]["p50"], "shown_p95": ml["shown"]["p95"] / fw["shown"]["p95"],
             "bytes_at_shown_p50": ml["bytes_at_shown"]["p50"] / fw["bytes_at_shown"]["p50"],
             "requests_at_shown_p50": ml["requests_at_shown"]["p50"] / fw["requests_at_shown"]["p50"],
             "bytes_total_p50": ml["bytes_total"]["p50"] / fw["bytes_total"]["p50"],
             "requests_total_p50": ml["requests_total"]["p50"] / fw["requests_total"]["p50"]}
    runs = next((x["runs"] for x in pop.values() if x), None)
    out = {"benchmark": "ui_mlflow", "runs": runs, "meta": meta, "browser": b["browser"],
           "chromedriver": b["chromedriver"], "viewport": b["viewport"], "cache": b["cache"],
           "first_rows": b["first_rows"], "repeats": b["repeats"], "ratio_mlflow_over_flywheel": ratio,
           "uis": uis, "warmup": b["warmup"]}
    json.dump(out, open(a.json, "w"), indent=1)

    p = print
    p(f"## Runs table of an experiment of {runs:,} runs: MLflow UI vs Flywheel web UI, headless Chromium\n")
    p(f"Machine: {meta.get('machine', '?')}  ")
    p(f"Date: {meta.get('date', '?')}; load average {meta.get('load_average', '?')}  ")
    cache = ("cold cache: HTTP cache and site storage cleared before every load" if b["cache"] == "cold"
             else "warm cache: nothing cleared between loads")
    p(f"Browser: {b['browser']}, viewport {b['viewport'][0]}×{b['viewport'][1]}; {cache}; {b['repeats']} loads per UI "
      f"after one warm-up, the two UIs alternating  ")
    p(f"Servers: {meta.get('servers', '?')}  ")
    p(f"Versions: {meta.get('versions', '?')}\n")
    p("| UI | page | rows shown p50 | p95 | min | rows in DOM p50 | FCP p50 | load event p50 "
      "| requests by shown / all | transferred by shown / all |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, label in (("mlflow", "MLflow UI"), ("flywheel", "Flywheel web UI")):
        s = uis[name]["stats"]
        url = uis[name]["url"]
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url
        fcp = s["fcp"]["p50"] if s["fcp"] else None
        p(f"| {label} | `{path}` | **{fmt_ms(s['shown']['p50'])}** | {fmt_ms(s['shown']['p95'])} | {fmt_ms(s['shown']['min'])} "
          f"| {fmt_ms(s['dom']['p50'])} | {fmt_ms(fcp)} | {fmt_ms(s['load']['p50'])} "
          f"| {s['requests_at_shown']['p50']:.0f} / {s['requests_total']['p50']:.0f} "
          f"| {fmt_bytes(s['bytes_at_shown']['p50'])} / {fmt_bytes(s['bytes_total']['p50'])} |")
    p(f"\n**MLflow / Flywheel, time until the rows are shown: {ratio['shown_p50']:.1f}× at p50, "
      f"{ratio['shown_p95']:.1f}× at p95**; until then {ratio['bytes_at_shown_p50']:.0f}× the bytes in "
      f"{ratio['requests_at_shown_p50']:.0f}× the requests.\n")
    p(f"- Rows shown: when the first {b['first_rows']} rows' run names had been painted (Element Timing), in ms since "
      "navigation start. Rows in DOM: when they were in the document. Flywheel: `table.runs tbody tr` with a "
      "`/runs/…` link; MLflow: ag-grid rows `.ag-root [role=row][row-id]` with a `#/experiments/…/runs/…` link; "
      "both named bench-run-NNNNN (see bench/ui_mlflow.py).")
    p("- Requests and transferred bytes (headers + encoded body): the navigation and the Resource Timing entries whose "
      f"response had ended when the rows were shown / all of them once no request had started for {meta.get('quiet_ms', '?')} ms. "
      f"The DevTools network events of the same loads count MLflow {ml['cdp_requests_total']['p50']:.0f} requests, "
      f"{fmt_bytes(ml['cdp_bytes_total']['p50'])}, Flywheel {fw['cdp_requests_total']['p50']:.0f}, "
      f"{fmt_bytes(fw['cdp_bytes_total']['p50'])} (a web worker's script is not a Resource Timing entry). "
      f"Decoded, all of it: MLflow {fmt_bytes(ml['decoded_total']['p50'])}, Flywheel {fmt_bytes(fw['decoded_total']['p50'])} "
      f"(HTML content-encoding: MLflow {uis['mlflow']['loads'][0].get('html_encoding') or 'none'}, "
      f"Flywheel {uis['flywheel']['loads'][0].get('html_encoding') or 'none'}).")
    for name in ("mlflow", "flywheel"):
        pp = pop.get(name)
        if pp:
            p(f"- Populating {name}: {pp['runs']:,} runs (create_run + log_batch of 10 params and 10 metrics, "
              f"{pp['threads']} client threads) in {pp['seconds']:.1f} s ({pp['runs'] / pp['seconds']:.0f} runs/s).")
    for name in ("mlflow", "flywheel"):
        bad = sum(1 for l in uis[name]["loads"] if l.get("cdp_requests_failed"))
        if bad:
            p(f"- {name}: {bad} of {len(uis[name]['loads'])} loads had a failed request (see cdp_requests_failed in the JSON).")
    p(f"- p95 is nearest-rank: with {b['repeats']} loads it is the {'slowest' if b['repeats'] <= 20 else 'one at 95 %'}. "
      f"Knobs: {meta.get('knobs', '?')}; {meta.get('elapsed', '')}.")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("populate")
    s.add_argument("--uri", required=True)
    s.add_argument("--runs", type=int, default=10_000)
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("--out", required=True)
    s = sub.add_parser("browse")
    s.add_argument("--flywheel", required=True, help="URL of Flywheel's runs table page")
    s.add_argument("--mlflow", required=True, help="URL of MLflow's runs view")
    s.add_argument("--runs", type=int, required=True)
    s.add_argument("--repeats", type=int, default=10)
    s.add_argument("--first-rows", type=int, default=5)
    s.add_argument("--cache", choices=["cold", "warm"], default="cold")
    s.add_argument("--timeout-ms", type=int, default=120_000)
    s.add_argument("--quiet-ms", type=int, default=1000)
    s.add_argument("--settle-ms", type=int, default=15_000)
    s.add_argument("--shots", default="")
    s.add_argument("--out", required=True)
    s = sub.add_parser("report")
    s.add_argument("--populate-dir", required=True)
    s.add_argument("--browse", required=True)
    s.add_argument("--meta", required=True)
    s.add_argument("--json", required=True)
    a = ap.parse_args()
    {"populate": populate, "browse": browse, "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
