"""The extraction package stays Django-independent."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_extraction_modules_import_without_django():
    # given a fresh interpreter, when the pipeline and scoring are imported and run
    code = (
        "import sys; from meetings.suggest import pipeline, scoring, devrun, ner; "
        "pipeline.extract('Cho Hyun met Marco Rubio on Friday.', published='2025-09-12', known_people=[]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'tracker')]; "
        "assert not bad, bad"
    )
    # then neither Django, Celery nor the tracker package is loaded
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
