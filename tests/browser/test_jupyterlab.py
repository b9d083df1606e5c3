"""Chapter 6 in JupyterLab, in a real browser: headless Chromium (Debian's package) driven by Selenium.

Starts JupyterLab with the repo's configuration for `make lab` (tools/jupyterlab: jupyterlab-myst
plus custom CSS) on a copy of notebooks/06_attention_model.ipynb, on localhost, on a free port,
with no token or password. Chromium opens the chapter, runs all cells with a live kernel
(XAI_TUTORIAL_STATIC unset, so the interactive explorer is built) and checks that

- every markdown cell is rendered by MyST, with no raw directive or role text on show;
- exercises are boxes, solutions are folded (code cells included) until their dropdown is opened;
- every code cell runs, and none but those tagged `raises-exception` has an error or stderr output;
- moving the attention explorer's slider changes the example shown;
- no request leaves localhost (the notebooks work offline in JupyterLab).

Screenshots go to _build/screenshots/jupyterlab_ch06*.png. JupyterLab is stopped at the end.
Under CI (CI=true) a missing browser is a failure, not a skip.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_attention_model.ipynb"
LAB_CONFIG = ROOT / "tools" / "jupyterlab"
JUPYTER = Path(sys.executable).with_name("jupyter")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "_build" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# the slowest step is the kernel: chapter 6 takes about 40 s of CPU; allow for a loaded machine
RUN_ALL_TIMEOUT = 300

# MyST source text that must never be visible in a rendered markdown cell
RAW_MYST = [re.compile(p) for p in (r"```\{", r":::\{", r"\{[\w:-]+\}`", r"(?m)^:(class|label):",
                                    r"\{solution-(start|end)\}", r"\{exercise\}")]


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found: install Debian's chromium and chromium-driver packages"
    if not JUPYTER.exists():
        return f"{JUPYTER} not found: install requirements.txt (make install)"
    try:
        import jupyterlab_myst  # noqa: F401
    except ImportError:
        return "jupyterlab-myst is not installed: install requirements.txt (make install)"
    return None


_reason = _missing()
if _reason and not IN_CI:
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(autouse=True, scope="module")
def _browser_available():
    """Under CI a missing browser fails every test here (deselected tests never get here)."""
    if _reason:
        pytest.fail(f"JupyterLab browser test cannot run under CI: {_reason}", pytrace=False)


from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_env(home: Path) -> dict[str, str]:
    """The environment of `make lab` (repo config, live widgets), isolated from the user's Jupyter files."""
    env = dict(os.environ)
    for var in ("XAI_TUTORIAL_STATIC", "MPLBACKEND", "JUPYTER_CONFIG_PATH", "JUPYTER_PATH"):
        env.pop(var, None)  # MPLBACKEND=Agg (tests/conftest.py) would stop plt.show() in the kernel
    env.update(JUPYTER_CONFIG_PATH=str(LAB_CONFIG), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               IPYTHONDIR=str(home / "ipython"))
    return env


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of chapter 6 (the copy takes the outputs and any autosave); stopped at the end.

    Started here and waited for in `notebook`, so that Chromium starts while JupyterLab does.
    """
    root = tmp_path_factory.mktemp("lab-notebooks")
    shutil.copy2(NOTEBOOK, root / NOTEBOOK.name)
    home = tmp_path_factory.mktemp("lab-home")
    port = _free_port()
    cmd = [str(JUPYTER), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = home / "jupyterlab.log"
    url = f"http://127.0.0.1:{port}"
    started = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=_lab_env(home), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    def wait_ready() -> None:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"JupyterLab did not answer within 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)

    try:
        yield {"url": url, "root": root, "log": log_path, "started": started, "wait_ready": wait_ready}
    finally:
        # the kernel runs in a session of its own: note its pid to stop it too if the server cannot
        kids = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: Jupyter's clean stop, which shuts its kernels down first
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for kid in kids:
            with contextlib.suppress(psutil.Error):
                kid.kill()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    # keep every resource's timing entry (JupyterLab loads hundreds of files; the default keeps 250)
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                        {"source": "performance.setResourceTimingBufferSize(100000);"})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield drv
    drv.quit()


# JavaScript run in the page: JupyterLab's own model of the open notebook (window.jupyterapp exists
# because the server runs with --LabApp.expose_app_in_browser)
_PANEL_JS = """
const panels = Array.from(jupyterapp.shell.widgets('main'))
  .filter(w => w.context && w.context.path === arguments[0]);
const panel = panels.length ? panels[0] : null;
"""

_STATE_JS = _PANEL_JS + """
if (!panel || !panel.context.isReady) return null;
const kernel = panel.sessionContext.session ? panel.sessionContext.session.kernel : null;
const withOutputs = arguments[1];
return {
  kernel: kernel ? kernel.status : 'none',
  n_model: panel.content.model.cells.length,
  n_dom: panel.content.node.querySelectorAll('.jp-Cell').length,
  cells: panel.content.widgets.map(c => c.model.type !== 'code' ? null : {
    count: c.model.executionCount,
    tags: c.model.getMetadata('tags') || [],
    outputs: !withOutputs ? [] : Array.from({length: c.model.outputs.length}, (_, k) => c.model.outputs.get(k).toJSON())
      .map(o => o.output_type === 'error' ? 'error: ' + o.ename + ': ' + o.evalue
        : o.output_type === 'stream' ? o.name + ': ' + [].concat(o.text).join('').slice(0, 300) : o.output_type)}),
};
"""


def _state(driver, name: str, outputs: bool = False):
    """JupyterLab's view of the notebook: kernel status, cells in the model and on the page,
    and per code cell its execution count, tags and (if `outputs`) a one-line summary of each output."""
    return driver.execute_script(_STATE_JS, name, outputs)


@pytest.fixture(scope="module")
def notebook(lab, driver):
    """Chapter 6 open in JupyterLab with its kernel idle (cells may still be attaching to the page)."""
    name = NOTEBOOK.name
    lab["wait_ready"]()
    driver.get(f"{lab['url']}/lab/tree/{name}?reset")
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!window.jupyterapp"))
    deadline = time.time() + 120
    while True:
        state = _state(driver, name)
        if state and state["kernel"] == "idle" and state["n_model"] > 0:
            break
        assert time.time() < deadline, f"chapter 6 did not open in JupyterLab within 120 s: {state}"
        time.sleep(0.3)
    print(f"JupyterLab: chapter 6 open, kernel idle after {time.time() - lab['started']:.0f} s")
    return {"name": name, "source": json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]}


@pytest.fixture(scope="module")
def run_started(notebook, driver):
    """Run > Run All Cells, through JupyterLab's menu, at once: the markdown is checked meanwhile."""
    driver.find_element(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']").click()
    item = "li.lm-Menu-item[data-command='runmenu:run-all']"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, item))
    driver.find_element(By.CSS_SELECTOR, item).click()
    return time.time()


@pytest.fixture(scope="module")
def rendered(notebook, run_started, driver):
    """Every cell of the notebook attached to the page (JupyterLab adds them a batch at a time)."""
    deadline = time.time() + 120
    while True:
        state = _state(driver, notebook["name"])
        if state["n_dom"] == state["n_model"]:
            break
        assert time.time() < deadline, f"only {state['n_dom']} of {state['n_model']} cells on the page after 120 s"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def ran(notebook, run_started, driver):
    """Waits until the kernel has run every cell (or stopped at an error) and returns JupyterLab's state."""
    idle_since = None
    while True:
        state = _state(driver, notebook["name"])
        if state["kernel"] == "idle" and all(c["count"] is not None for c in state["cells"] if c is not None):
            break
        # JupyterLab stops a run at an unexpected error: the kernel stays idle with cells left unrun
        idle_since = (idle_since or time.time()) if state["kernel"] == "idle" else None
        if idle_since and time.time() - idle_since > 10:
            break
        assert time.time() - run_started < RUN_ALL_TIMEOUT, f"Run All did not finish within {RUN_ALL_TIMEOUT} s"
        time.sleep(0.5)
    return {"state": _state(driver, notebook["name"], outputs=True), "seconds": time.time() - run_started}


def _markdown_cells(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-MarkdownCell")


def _rendered_text(cell) -> str:
    """All text of MyST's rendering of a markdown cell (not of its hidden editor).

    textContent, not innerText: JupyterLab skips laying out the cells that are off screen
    (content-visibility), and their innerText is empty. textContent also holds text that is not
    on show (folded solutions, KaTeX's MathML), so the checks on it are, if anything, stricter.
    """
    rendered = cell.find_elements(By.CSS_SELECTOR, ".jp-InputArea > .myst")
    return " ".join(rendered[0].get_attribute("textContent").split()) if rendered else ""


def test_markdown_is_rendered_by_myst(notebook, rendered, driver):
    cells = _markdown_cells(driver)
    n_markdown = sum(c["cell_type"] == "markdown" for c in notebook["source"])
    assert len(cells) == n_markdown
    not_myst = [i for i, cell in enumerate(cells) if not cell.find_elements(By.CSS_SELECTOR, ".jp-InputArea > .myst")]
    assert not not_myst, f"markdown cells not rendered by jupyterlab-myst: {not_myst}"

    raw = []
    for i, cell in enumerate(cells):
        text = _rendered_text(cell)
        raw += [f"markdown cell {i}: {pat.pattern!r} in {text[:120]!r}" for pat in RAW_MYST if pat.search(text)]
    assert not raw, "raw MyST text visible in JupyterLab:\n" + "\n".join(raw)

    page = "\n".join(_rendered_text(c) for c in cells)
    # exercises as numbered boxes with their titles
    for k, title in enumerate(["Fix the article’s attention layer", "The context vector by hand",
                               "The most concentrated attention"], start=1):
        assert f"Exercise {k} ({title})" in page, f"exercise {k} is not rendered as in the book"
    # math typeset by KaTeX, without errors
    n_math = driver.execute_script("return document.querySelectorAll('.jp-Notebook .myst .katex').length")
    assert n_math >= 20, f"only {n_math} formulas typeset"
    assert not driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .myst .katex-error")
    # glossary terms: the term's text, no dead link, no "<Target>" part of the role
    assert "every attention weight exactly 1" in page
    assert "<Attention weight>" not in page
    term = driver.find_element(By.XPATH, "//div[contains(@class,'myst')]//a[text()='attention weight']")
    assert term.value_of_css_property("pointer-events") == "none"
    # citations: author and year as in the book ("Bahdanau et al., 2015"), not the BibTeX key,
    # in brackets, without the "not found" warning look, the whole reference as tooltip
    sys.path.insert(0, str(LAB_CONFIG))
    from citations import citation_labels

    labels = citation_labels()
    source = "\n".join("".join(c["source"]) for c in notebook["source"] if c["cell_type"] == "markdown")
    keys = set(re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source))
    keys = {k.strip() for group in keys for k in group.split(",")}
    assert keys
    missing = [labels[k]["label"] for k in keys if labels[k]["label"] not in page]
    assert not missing, f"citations not shown with author and year: {missing}"
    raw_keys = [k for k in keys if re.search(rf"\b{re.escape(k)}\b", page)]
    assert not raw_keys, f"citations still shown as BibTeX keys: {raw_keys}"
    cites = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .myst span[data-cite-key]")
    assert len(cites) >= len(keys)
    for cite in cites[:3]:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cite)
        key = cite.get_attribute("data-cite-key")
        assert cite.text.strip("[] ") == labels[key]["label"]
        assert cite.get_attribute("title") == labels[key]["reference"]
        assert driver.execute_script("return getComputedStyle(arguments[0], '::before').content", cite) == '"["'
        assert not cite.find_element(By.TAG_NAME, "svg").is_displayed(), "citation still shows a warning icon"


def _cell_after(driver, element):
    """The notebook cell that follows the cell holding `element`."""
    return driver.execute_script("return arguments[0].closest('.jp-Cell').nextElementSibling", element)


def _toggle(driver, details, open_: bool) -> None:
    """Click a dropdown's summary like a reader; retried, as outputs arriving above can move the page."""
    summary = details.find_element(By.TAG_NAME, "summary")
    for _ in range(3):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
        summary.click()
        try:
            WebDriverWait(driver, 3).until(lambda d: (details.get_attribute("open") is not None) == open_)
            return
        except Exception:
            continue
    raise AssertionError(f"clicking the solution's title did not {'open' if open_ else 'close'} it")


def test_solutions_folded_until_opened(notebook, rendered, driver):
    n = NOTEBOOK.read_text(encoding="utf-8").count("```{exercise}")
    exercises = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .myst aside.myst-exercise")
    solutions = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .myst details.myst-exercise")
    assert n >= 3 and len([e for e in exercises if e.is_displayed()]) == n, f"{n} exercise boxes expected"
    assert len(solutions) == n, f"{n} solution dropdowns expected"
    for k, sol in enumerate(solutions, start=1):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", sol)
        summary = sol.find_element(By.TAG_NAME, "summary")
        assert f"Solution to Exercise {k}" in summary.text, summary.text
        code = _cell_after(driver, sol)
        end = driver.execute_script("return arguments[0].nextElementSibling", code)
        assert "jp-CodeCell" in code.get_attribute("class")
        assert sol.get_attribute("open") is None and not code.is_displayed(), \
            f"solution {k}: its code is visible before the dropdown is opened"
        assert not end.is_displayed(), f"solution {k}: the empty solution-end box is visible"
        _toggle(driver, sol, True)
        WebDriverWait(driver, 5).until(lambda d: code.is_displayed())
        hint = sol.find_element(By.CSS_SELECTOR, ".myst-exercise-body")
        assert hint.is_displayed() and hint.text.strip()
        assert not end.is_displayed()
        if k == 1:
            driver.save_screenshot(str(SCREENSHOTS / "jupyterlab_ch06_solution_open.png"))
        _toggle(driver, sol, False)
        WebDriverWait(driver, 5).until(lambda d: not code.is_displayed())


def test_all_cells_run_without_errors(notebook, ran):
    state = ran["state"]
    assert state["kernel"] == "idle"
    problems = []
    for i, cell in enumerate(state["cells"]):
        if cell is None:
            continue
        if cell["count"] is None:
            problems.append(f"cell {i} did not run")
            continue
        bad = [o for o in cell["outputs"] if o.startswith(("error:", "stderr:"))]
        if "raises-exception" in cell["tags"]:
            assert any(o.startswith("error:") for o in bad), f"cell {i} is tagged raises-exception but raised nothing"
        elif bad:
            problems.append(f"cell {i}: {bad}")
    assert not problems, "in JupyterLab:\n" + "\n".join(problems)
    print(f"Run All in JupyterLab: {ran['seconds']:.0f} s")


def test_explorer_slider_changes_the_example(notebook, ran, driver):
    sliders = driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea .widget-slider")
    assert len(sliders) == 1, "the attention explorer (ipywidgets) is not shown: is the kernel live?"
    slider = sliders[0]
    box = driver.execute_script("return arguments[0].closest('.widget-vbox')", slider)
    html = box.find_element(By.CSS_SELECTOR, ".widget-html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
    before_value, before_html = readout.text, html.text
    assert before_value == "0" and before_html.startswith("example 0 "), before_html

    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    handle.click()
    for _ in range(3):
        handle.send_keys(Keys.ARROW_RIGHT)
    # the kernel answers each of the three steps in turn: wait for the last one, not the first
    WebDriverWait(driver, 30).until(lambda d: readout.text == "3" and html.text.startswith("example 3 "))
    assert html.text != before_html
    driver.save_screenshot(str(SCREENSHOTS / "jupyterlab_ch06_explorer.png"))


def test_nothing_leaves_localhost(lab, notebook, ran, driver):
    """The page, MyST rendering, KaTeX fonts and widgets all come from the local server."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert 20 < len(urls) < 100000, len(urls)
    outside = [u for u in urls if not u.startswith((lab["url"], "data:", "blob:"))]
    assert not outside, f"requests to other hosts: {outside[:10]}"


def test_screenshot_of_the_exercises(notebook, ran, driver):
    """_build/screenshots/jupyterlab_ch06.png: the exercises after Run All, the first solution folded."""
    heading = driver.find_element(By.CSS_SELECTOR, ".jp-Notebook .myst h2#exercises")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", heading)
    time.sleep(0.5)
    driver.save_screenshot(str(SCREENSHOTS / "jupyterlab_ch06.png"))
    assert (SCREENSHOTS / "jupyterlab_ch06.png").stat().st_size > 10_000
