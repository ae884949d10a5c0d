"""The web demo's HTTP side: one page and a small JSON API (FastAPI).

- ``GET /``: the page (``static/index.html`` with its script and styles;
  nothing is loaded from outside the server, so it works offline).
- ``GET /api/info``: model, device, classes, limits, and the model's
  ``notice`` (None, or why its labels on real photos mean nothing).
- ``POST /api/predict[?whole_image=true][&min_confidence=P]``: the image
  file as the request body (``curl --data-binary @photo.jpg``), or a
  multipart form with one file field of any name (``curl -F
  file=@photo.jpg``, an HTML form); ``min_confidence``: faces less sure are
  marked ``uncertain`` (the page's slider); answers
  :meth:`DemoService.predict`'s dict, or ``{"error": ...}`` with status
  400 (not an image, too many pixels, a form without a file, a bad
  ``min_confidence``), 413
  (file too big), 503 (too many requests waiting) or 500 (a bug; the
  traceback goes to the server's log, the server stays up).

Requests are queued: the model runs in one worker thread, one image at a
time, while the server keeps answering.
"""
import asyncio
import logging
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ..utils.errors import InputError, one_line
from .service import DemoService

STATIC_DIR = osp.join(osp.dirname(__file__), 'static')
logger = logging.getLogger('dan_mm.demo')


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({'error': message}, status_code=status)


async def form_file(request: Request, body: bytes) -> bytes:
    """The file of a multipart form upload (``curl -F file=@photo.jpg``).

    Args:
        request (Request): The request, for its headers.
        body (bytes): Its body, read already (within the size limit).

    Returns:
        bytes: The content of the form's first file field.

    Raises:
        InputError: The body is no valid form, or the form has no file.
    """

    async def stream():
        yield body

    try:
        form = await MultiPartParser(
            request.headers, stream(), max_files=1, max_fields=16).parse()
    except MultiPartException as err:
        raise InputError(f'the form upload cannot be read '
                         f'({err.message.rstrip(".")}); '
                         'send the photo as a file field '
                         '(curl -F file=@photo.jpg) or as the raw body '
                         '(curl --data-binary @photo.jpg)') from None
    try:
        for _, value in form.multi_items():
            if isinstance(value, UploadFile):
                return await value.read()
    finally:
        await form.close()
    raise InputError('the form has no file: send the photo as a file field '
                     '(curl -F file=@photo.jpg) or as the raw body '
                     '(curl --data-binary @photo.jpg)')


def create_app(service: DemoService,
               max_upload_mb: float = 20,
               max_queue: int = 8) -> FastAPI:
    """The demo's FastAPI application around ``service``.

    Args:
        service (DemoService): Does the work.
        max_upload_mb (float): Larger uploads are refused (413) without
            being kept in memory. Defaults to 20.
        max_queue (int): Requests waiting or running at once; more are
            refused with 503 until one finishes. Defaults to 8.

    Returns:
        FastAPI: The app, for ``uvicorn.run(app)``.
    """
    max_bytes = int(max_upload_mb * 1024 * 1024)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='dan')
    state = dict(pending=0)

    @asynccontextmanager
    async def lifespan(app):
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    # No /docs or /redoc: FastAPI's API pages load scripts from a CDN.
    app = FastAPI(
        title='dan_mm web demo',
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan)
    app.mount('/static', StaticFiles(directory=STATIC_DIR), name='static')

    @app.get('/', include_in_schema=False)
    async def page():
        return FileResponse(osp.join(STATIC_DIR, 'index.html'))

    @app.get('/api/info')
    async def info():
        return dict(
            service.info(),
            max_upload_bytes=max_bytes,
            max_queue=max_queue,
            waiting=state['pending'])

    @app.post('/api/predict')
    async def predict(request: Request,
                      whole_image: bool = False,
                      min_confidence: Optional[float] = None):
        if min_confidence is not None and not 0 <= min_confidence <= 1:
            return _error(
                400, f'min_confidence {min_confidence} is not a '
                'probability from 0 to 1')
        too_big = (f'the file is larger than the demo accepts '
                   f'({max_upload_mb:g} MB): scale the photo down')
        declared = int(request.headers.get('content-length') or 0)
        if declared > max_bytes and \
                request.headers.get('expect', '').lower() == '100-continue':
            return _error(413, too_big)  # the client has sent nothing yet
        body, size = bytearray(), 0
        async for chunk in request.stream():
            size += len(chunk)
            # Past the limit, read on without keeping anything: a client
            # still sending would see a reset connection, not the message.
            if size <= max_bytes:
                body += chunk
        if size > max_bytes:
            return _error(413, too_big)
        if state['pending'] >= max_queue:
            return _error(
                503, f'the server is busy ({state["pending"]} photos in '
                'the queue): try again in a moment')
        content_type = request.headers.get('content-type', '').lower()
        try:
            data = await form_file(request, bytes(body)) \
                if content_type.startswith('multipart/form-data') \
                else bytes(body)
        except InputError as err:
            return _error(400, one_line(err))
        state['pending'] += 1
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                executor, service.predict, data, whole_image, min_confidence)
        except InputError as err:
            return _error(400, one_line(err))
        except Exception as err:  # a bug: log it, keep serving
            logger.exception('predict failed')
            return _error(
                500, f'the server failed on this image '
                f'({type(err).__name__}); the details are in its log')
        finally:
            state['pending'] -= 1
        return answer

    return app
