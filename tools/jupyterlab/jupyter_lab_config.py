# JupyterLab settings for `make lab` (and tests/browser/test_jupyterlab.py), loaded through
# JUPYTER_CONFIG_PATH so that the user's own ~/.jupyter configuration still applies on top.
# Beside it: custom/custom.css (see its header) and labconfig/page_config.json, which turns off
# the "get notified about Jupyter news?" prompt (the news feed is off below).
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# custom/custom.css: book-like rendering of the MyST markup that jupyterlab-myst cannot resolve
# inside one notebook (gated solutions, citations, glossary terms)
c.LabApp.custom_css = True
c.ServerApp.tornado_settings = {"static_custom_path": [os.path.join(here, "custom")]}

# citations as the book shows them ("Bahdanau et al., 2015", the whole reference as tooltip):
# JupyterLab's own page template plus a script that relabels them (see citations.py), written to
# _build/jupyterlab_templates each time JupyterLab starts, so it follows references.bib
sys.path.insert(0, here)
from citations import ROOT, write_lab_template  # noqa: E402
from jupyterlab.commands import get_app_dir  # noqa: E402

c.LabApp.templates_dir = str(write_lab_template(ROOT / "_build" / "jupyterlab_templates",
                                                os.path.join(get_app_dir(), "static")))

# offline: no news feed and no check for a newer JupyterLab
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"

# Jupyter refuses to start as root unless told; containers and CI run as root
c.ServerApp.allow_root = os.geteuid() == 0
