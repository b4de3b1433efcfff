"""Drives Flywheel's web UI in headless Chromium (Selenium + chromedriver) the way a person would,
and prints one JSON object on its last line with what it saw.

    python ui_browser_check.py http://127.0.0.1:PORT SCREENSHOT_DIR [XSS_RUN_NAME]

It crawls every page reachable from the navigation (two links deep, same origin), takes a
1280x800 screenshot of each, and records console errors and every request the browser made (so
the caller can assert none left loopback). Then it exercises the conveniences: the column
picker's search and its form, selecting runs and comparing them, the theme switch (and the
browser's own dark preference), a run named with markup, the quickstart's story clicked through (alert → version → run, the retraining pipeline's graph, the
canary's traffic), and navigation with JavaScript off.
Nothing is asserted here: the Swift test reads the JSON and decides.
"""

import json
import os
import re
import sys
import time
import urllib.request
from urllib.parse import urljoin, urlparse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE = sys.argv[1].rstrip("/")
SHOTS = sys.argv[2]
XSS = sys.argv[3] if len(sys.argv) > 3 else "<script>alert(1)</script>"
os.makedirs(SHOTS, exist_ok=True)
ORIGIN = urlparse(BASE).netloc
result = {"pages": [], "console_errors": [], "external_requests": [], "failed": []}


def driver(javascript=True):
    o = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-extensions"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if not javascript:
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    binary = os.environ.get("CHROME_BINARY") or next(
        (p for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] if os.path.exists(p)), None)
    if binary:
        o.binary_location = binary
    path = os.environ.get("CHROMEDRIVER") or next(
        (p for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] if os.path.exists(p)), None)
    d = webdriver.Chrome(service=Service(path) if path else Service(), options=o)
    d.set_page_load_timeout(30)
    return d


def drain(d, page):
    """Console errors and requests since the last call."""
    for e in d.get_log("browser"):
        if e.get("level") == "SEVERE":
            result["console_errors"].append({"page": page, "message": e.get("message", "")[:300]})
    for e in d.get_log("performance"):
        try:
            m = json.loads(e["message"])["message"]
        except (KeyError, ValueError):
            continue
        if m.get("method") == "Network.requestWillBeSent":
            url = m["params"]["request"]["url"]
            if url.startswith("data:"):
                continue
            if urlparse(url).netloc != ORIGIN:
                result["external_requests"].append({"page": page, "url": url})


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def shot(d, name):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:80] or "home"
    d.save_screenshot(os.path.join(SHOTS, f"{len(os.listdir(SHOTS)):02d}-{safe}.png"))


def same_origin_links(d):
    out = []
    for a in d.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = a.get_attribute("href") or ""
        if urlparse(href).netloc == ORIGIN and "/ui/theme" not in href and "format=" not in href and "/artifacts/" not in href:
            out.append(href.split("#")[0])
    return out


def step(name, fn):
    try:
        fn()
    except Exception as e:  # recorded for the test to report, the walk goes on
        result["failed"].append(f"{name}: {type(e).__name__}: {str(e)[:300]}")


d = driver()


def crawl():
    nav = []
    d.get(BASE + "/")
    drain(d, "/")
    nav = [a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "header nav a")]
    result["nav"] = [urlparse(h).path for h in nav]
    seen, queue = set(), [(h, 0) for h in nav]
    while queue and len(seen) < 40:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        d.get(url)
        path = urlparse(url).path + (("?" + urlparse(url).query) if urlparse(url).query else "")
        drain(d, path)
        shot(d, path)
        html_len = len(d.page_source.encode())
        result["pages"].append({"path": path, "status": status(url), "title": d.title, "html_bytes": html_len,
                                "has_main": len(d.find_elements(By.TAG_NAME, "main")) == 1})
        if depth < 2:
            queue.extend((h, depth + 1) for h in same_origin_links(d)[:12] if h not in seen)


def picker():
    d.get(BASE + "/experiments/1")
    details = d.find_element(By.CSS_SELECTOR, "details.cols")
    details.find_element(By.TAG_NAME, "summary").click()
    # Opening it fetches the page's keys (the script's convenience; without it, a link does).
    labels = []
    for _ in range(50):
        labels = details.find_elements(By.CSS_SELECTOR, ".list label")
        if labels:
            break
        time.sleep(0.1)
    box = details.find_element(By.CSS_SELECTOR, "input.colsearch")
    box.send_keys("param")
    time.sleep(0.2)
    visible = [l for l in labels if l.is_displayed()]
    first = visible[0]
    key = first.text.strip()
    first.find_element(By.TAG_NAME, "input").click()
    details.find_element(By.TAG_NAME, "button").click()
    time.sleep(0.3)
    heads = [th.text.strip() for th in d.find_elements(By.CSS_SELECTOR, "table.runs thead th")]
    result["picker"] = {"keys": len(labels), "visible_after_search": len(visible), "chosen": key,
                        "url": d.current_url, "headers": heads}
    drain(d, "picker")


def compare():
    d.get(BASE + "/experiments/1")
    boxes = d.find_elements(By.CSS_SELECTOR, "input[name=runs]")
    boxes[0].click()
    boxes[1].click()
    button = d.find_element(By.CSS_SELECTOR, "button.compare")
    label = button.text
    button.click()
    time.sleep(0.3)
    result["compare"] = {"button": label, "url": d.current_url, "h1": d.find_element(By.TAG_NAME, "h1").text}
    shot(d, "compare-selected")
    drain(d, "compare")


def background():
    rgb = d.execute_script("return getComputedStyle(document.body).backgroundColor")
    nums = [int(x) for x in re.findall(r"\d+", rgb)[:3]]
    return sum(nums) / 3 if nums else -1


def themes():
    d.get(BASE + "/models")
    light = background()
    d.find_element(By.LINK_TEXT, "dark").click()
    time.sleep(0.2)
    dark = background()
    attr = d.find_element(By.TAG_NAME, "html").get_attribute("data-theme")
    d.refresh()
    after_reload = background()
    shot(d, "models-dark")
    d.find_element(By.LINK_TEXT, "auto").click()
    # The browser's own preference, with no choice made.
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    d.get(BASE + "/")
    preferred_dark = background()
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    result["theme"] = {"light": light, "dark": dark, "data_theme": attr, "dark_after_reload": after_reload,
                       "auto_with_dark_preference": preferred_dark}
    drain(d, "themes")


def xss():
    d.get(BASE + "/experiments/1?filter=" + urllib.parse.quote("attributes.run_name = '" + XSS.replace("'", "''") + "'"))
    alert = False
    try:
        d.switch_to.alert
        alert = True
    except NoAlertPresentException:
        pass
    links = [a for a in d.find_elements(By.CSS_SELECTOR, "table.runs a") if a.text == XSS]
    shown_in_table = bool(links)
    if links:
        links[0].click()
        time.sleep(0.2)
    try:
        d.switch_to.alert
        alert = True
    except NoAlertPresentException:
        pass
    result["xss"] = {"alert": alert, "shown_in_table": shown_in_table, "run_page_h1": d.find_element(By.TAG_NAME, "h1").text,
                     "scripts_on_page": len(d.find_elements(By.CSS_SELECTOR, "main script"))}
    shot(d, "xss-run")
    drain(d, "xss")


def story():
    """The quickstart's story, clicked through: the alert, the version it was about, the run that
    trained it; the retraining pipeline's graph and a step; the canary's traffic per version."""
    out = result["story"] = {}
    d.get(BASE + "/monitors")
    d.find_element(By.CSS_SELECTOR, "main table a[href^='/monitors/']").click()
    time.sleep(0.2)
    served = d.find_elements(By.CSS_SELECTOR, "main table a[href*='#v']")
    out["alert_version_links"] = [a.text for a in served]
    if served:
        served[0].click()
        time.sleep(0.2)
        out["version_url"] = d.current_url
        frag = urlparse(d.current_url).fragment
        row = d.find_elements(By.ID, frag)
        out["version_row_found"] = bool(row)
        runs = row[0].find_elements(By.CSS_SELECTOR, "a[href^='/runs/']") if row else []
        if runs:
            runs[0].click()
            time.sleep(0.2)
            out["trained_by_url"] = d.current_url
            out["trained_by_h1"] = d.find_element(By.TAG_NAME, "h1").text
    d.get(BASE + "/pipelines")
    rows = d.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    out["pipeline_triggers"] = [r.find_elements(By.TAG_NAME, "td")[3].text for r in rows]
    retrain = [r for r in rows if r.find_elements(By.TAG_NAME, "td")[3].text == "alert"]
    if retrain:
        retrain[0].find_element(By.CSS_SELECTOR, "a").click()
        time.sleep(0.2)
        nodes = d.find_elements(By.CSS_SELECTOR, "svg.dag a")
        out["dag_nodes"] = [n.find_element(By.TAG_NAME, "text").text for n in nodes]
        out["dag_states"] = sorted({n.get_attribute("class") for n in nodes})
        out["dag_edges"] = len(d.find_elements(By.CSS_SELECTOR, "svg.dag path"))
        shot(d, "story-retraining-pipeline")
        train = [n for n in nodes if n.find_element(By.TAG_NAME, "text").text == "train"]
        if train:
            # An SVG link's href property is an object: read the attribute as written.
            d.get(urljoin(BASE + "/", train[0].get_dom_attribute("href")))
            out["step_h1"] = d.find_element(By.TAG_NAME, "h1").text
    d.get(BASE + "/deployments/churn")
    shot(d, "story-deployment-traffic")
    traffic = {}
    for tr in d.find_elements(By.CSS_SELECTOR, "main table tbody tr"):
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        if cells and cells[0].startswith("v") and len(cells) == 8:
            traffic[cells[0]] = int(cells[1])
    out["traffic_requests"] = traffic
    out["traffic_charts"] = len(d.find_elements(By.CSS_SELECTOR, "svg[aria-label='requests per second']"))
    drain(d, "story")


def no_javascript():
    n = driver(javascript=False)
    try:
        n.get(BASE + "/")
        visited = []
        for text in ["Models", "Pipelines", "Monitors", "Deployments", "Experiments"]:
            n.find_element(By.LINK_TEXT, text).click()
            visited.append(urlparse(n.current_url).path)
        n.find_element(By.CSS_SELECTOR, "main table a").click()
        visited.append(urlparse(n.current_url).path)
        # Sort by a header link, then filter through the form: both plain GETs.
        next(b for b in n.find_elements(By.CSS_SELECTOR, "th button") if b.text == "Run").click()
        # A form's submit navigates after the click returns: wait for the redirect to land.
        for _ in range(50):
            if "order=" in n.current_url:
                break
            time.sleep(0.1)
        sorted_url = n.current_url
        box = n.find_element(By.NAME, "filter")
        box.clear()
        box.send_keys("attributes.status = 'finished'")
        box.submit()
        filtered_url = n.current_url
        rows = len(n.find_elements(By.CSS_SELECTOR, "table.runs tbody tr"))
        # The column picker without the script: its link opens the page with the keys listed.
        details = n.find_element(By.CSS_SELECTOR, "details.cols")
        details.find_element(By.TAG_NAME, "summary").click()
        details.find_element(By.PARTIAL_LINK_TEXT, "list the keys").click()
        picker_keys = len(n.find_elements(By.CSS_SELECTOR, "details.cols[open] .list label"))
        result["no_js"] = {"visited": visited, "sorted_url": sorted_url, "filtered_url": filtered_url, "rows": rows,
                           "picker_keys": picker_keys}
    finally:
        n.quit()


try:
    for name, fn in [("crawl", crawl), ("picker", picker), ("compare", compare), ("themes", themes), ("xss", xss),
                     ("story", story), ("no_javascript", no_javascript)]:
        step(name, fn)
finally:
    d.quit()
result["screenshots"] = sorted(os.listdir(SHOTS))
print(json.dumps(result))
