"""The web demo: upload a photo, see every face's expression and attention.

:mod:`.service` needs only dan_mm's own requirements; :mod:`.app` (the
FastAPI app) needs the ``demo`` extra: ``pip install -r
requirements/demo.txt``. Start it with ``python tools/demo/web_demo.py``.
"""
from .service import DemoService

__all__ = ['DemoService']
