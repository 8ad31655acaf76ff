"""The real TensorBoard page in Debian's headless Chromium, driven by selenium: what it shows, and screenshots.

TensorBoard's dashboards are web components: their cards and graph nodes sit in shadow roots, which
``document.querySelectorAll`` does not enter, so the page is searched with a small recursive ``DEEP`` query.
"""
import contextlib
import importlib.util
import os
import re
import tempfile
import time
import urllib.parse

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-proxy-server",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")
PAGE_SIZE_KEY = "TF.TensorBoard.PaginatedView.limit"  # cards per page, 12 unless set in localStorage

DEEP = """const all = (root, sel, out = []) => { out.push(...root.querySelectorAll(sel));
  for (const e of root.querySelectorAll('*')) if (e.shadowRoot) all(e.shadowRoot, sel, out); return out; };
const text = (node, out = []) => { if (node.nodeType === Node.TEXT_NODE) out.push(node.data.trim());
  else if (node.nodeName !== 'STYLE')
    [...(node.shadowRoot ? [node.shadowRoot] : []), ...node.childNodes].forEach(child => text(child, out));
  return out.filter(Boolean).join(' '); };
"""
# every image card: its run and tag, the text it shows, and its image's size once loaded (null before)
IMAGE_CARDS = DEEP + """return all(document, 'tf-image-loader').map(card => {
  const img = card.shadowRoot.querySelector('img'), done = img && img.complete && img.naturalWidth > 0;
  return {run: card.run, tag: card.tag, text: text(card.shadowRoot),
          size: done ? [img.naturalWidth, img.naturalHeight] : null}; });"""
GRAPH_NODES = DEEP + "return all(document, 'g.node[data-name]').map(node => node.dataset.name);"
SELECT_GRAPH_RUN = DEEP + """const controls = all(document, 'tf-graph-controls')[0];
const index = controls ? controls.datasets.findIndex(run => run.name === arguments[0]) : -1;
if (index >= 0 && index !== controls._selectedRunIndex) controls.set('_selectedRunIndex', index); return index;"""
EXPAND_NODE = DEEP + """const node = all(document, 'g.node[data-name]').find(n => n.dataset.name === arguments[0]);
if (node) node.querySelector('.nodeshape').dispatchEvent(new MouseEvent('dblclick', {bubbles: true})); return !!node;"""
FIT_GRAPH = DEEP + "all(document, 'tf-graph').forEach(graph => graph.fit());"


def missing() -> str:
    """What this machine lacks for taking screenshots, with how to get it; "" when nothing is missing."""
    lacks = [] if importlib.util.find_spec("selenium") else ["selenium (.venv/bin/pip install -r requirements-dev.txt)"]
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            lacks.append(f"{path} (apt-get install -y {package})")
    return "; ".join(lacks)


@contextlib.contextmanager
def browser(width: int = 1400, height: int = 1000):
    """A headless Chromium with a fresh profile, driven by selenium; always quit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def poll(driver, script, done, timeout: float = 30, *args):
    """Run ``script`` until ``done(result)`` or ``timeout`` s have passed; the last result either way."""
    deadline = time.monotonic() + timeout
    while True:
        result = driver.execute_script(script, *args)
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def image_cards(driver, url: str, run: str, expected_tags=(), timeout: float = 30) -> list[dict]:
    """Open the images dashboard on one run (all its tags, one page) and return its cards once every expected
    tag's image has loaded (or, failing that, after ``timeout`` s)."""
    driver.get(url)
    driver.execute_script(f"localStorage.setItem('{PAGE_SIZE_KEY}', '1000')")
    driver.get(f"{url}/#images&tagFilter=.*&regexInput={urllib.parse.quote(f'^{re.escape(run)}$', safe='')}")
    driver.refresh()  # a new hash alone does not rebuild the dashboard

    def loaded(cards):
        return set(expected_tags) <= {card["tag"] for card in cards if card["run"] == run and card["size"]}
    return poll(driver, IMAGE_CARDS, loaded, timeout)


def model_scope(graph) -> str:
    """The one box the graphs dashboard first draws for a traced model ("LeNet"), beside input and output."""
    scopes = {node.name.split("/")[0] for node in graph.node} - {"input", "output"}
    if len(scopes) != 1:
        raise ValueError(f"expected one model scope beside input and output, found {sorted(scopes)}")
    return scopes.pop()


def graph_nodes(driver, url: str, run: str, expand: str, timeout: float = 30) -> list[str]:
    """Open the graphs dashboard on ``run``, expand the node ``expand`` (the model's scope), fit the graph to the
    window, and return the names of the nodes drawn. The run is chosen through the run selector's Polymer
    property (TensorBoard 2.x keeps no graph run in the URL)."""
    driver.get(f"{url}/#graphs")
    driver.refresh()  # start from the first run's graph, collapsed
    poll(driver, GRAPH_NODES, bool, timeout)
    if driver.execute_script(SELECT_GRAPH_RUN, run) < 0:
        raise LookupError(f"the graphs dashboard does not offer the run {run!r}")
    poll(driver, EXPAND_NODE, bool, timeout, expand)
    nodes = poll(driver, GRAPH_NODES, lambda names: any(name.startswith(f"{expand}/") for name in names), timeout)
    driver.execute_script(FIT_GRAPH)
    time.sleep(1)  # the fit is animated
    return nodes


def save(driver, path) -> None:
    """The window as a PNG at ``path``."""
    from PIL import Image

    driver.save_screenshot(str(path))
    Image.open(path).convert("RGB").save(path, optimize=True)
