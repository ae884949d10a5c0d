"""The web demo without a browser: answers, HTTP errors, queue, the
command line (decoding uploads: tests/test_utils/test_image_io.py)."""
import base64
import json
import os
import os.path as osp
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import uvicorn
from fer_test_utils import (CONFIG, REPO, build_model, faces_photo,
                            save_checkpoint)
from tool_runner import run_tool

from dan_mm.demo import DemoService
from dan_mm.demo.app import STATIC_DIR, create_app
from dan_mm.utils.cli import find_last_checkpoint
from dan_mm.utils.errors import CheckpointError

CLASSES = [
    'Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'
]
NUM_HEADS = 4  # configs/dan_r18_synthfer.py
WEB_DEMO = 'tools/demo/web_demo.py'


def encode(img, ext='.png'):
    return cv2.imencode(ext, img)[1].tobytes()


def from_data_url(url):
    prefix, payload = url.split(',', 1)
    assert re.fullmatch(r'data:image/(jpeg|png);base64', prefix)
    return cv2.imdecode(
        np.frombuffer(base64.b64decode(payload), np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture(scope='module')
def service(tmp_path_factory):
    checkpoint = save_checkpoint(build_model(),
                                 tmp_path_factory.mktemp('demo') / 'dan.pth')
    return DemoService.from_files(
        CONFIG, checkpoint, device='cpu', panel_size=64)


# --- answers ---


def test_predict_boxes_labels_scores_and_panels(service):
    photo = faces_photo(copies=2)
    answer = service.predict(encode(photo))
    assert answer['message'] is None
    assert answer['size'] == [photo.shape[1], photo.shape[0]]
    assert answer['resized_from'] is None
    assert len(answer['faces']) == 2
    assert answer['faces'][0]['box'][0] < answer['faces'][1]['box'][0]
    for face in answer['faces']:
        probs = [s['p'] for s in face['scores']]
        assert [s['name'] for s in face['scores']] == CLASSES
        assert sum(probs) == pytest.approx(1, abs=1e-3)
        assert face['label'] == CLASSES[int(np.argmax(probs))]
        assert face['score'] == max(probs)
        panels = from_data_url(face['panels'])  # the crop, then K heads
        assert panels.shape == (64, 64 * (NUM_HEADS + 1), 3)
    drawn = from_data_url(answer['image'])
    assert drawn.shape == photo.shape
    assert np.abs(drawn.astype(int) - photo).mean() > 1  # boxes drawn
    assert answer['time_s']['total'] >= answer['time_s']['inference'] > 0
    assert answer['model'] == 'dan_r18_synthfer · dan.pth'
    assert answer['device'].startswith('cpu')
    json.dumps(answer)  # what the app sends


def test_predict_no_face_offers_the_whole_image(service):
    blank = encode(np.full((90, 120, 3), 128, np.uint8))
    answer = service.predict(blank)
    assert answer['faces'] == []
    assert 'No face found' in answer['message']
    assert 'whole image as one face' in answer['message']
    whole = service.predict(blank, whole_image=True)
    assert whole['message'] is None and whole['whole_image']
    assert [f['box'] for f in whole['faces']] == [[0, 0, 120, 90]]


def test_predict_shrinks_big_photos(service):
    service.max_side, old = 100, service.max_side
    try:
        answer = service.predict(encode(faces_photo(copies=2)))
    finally:
        service.max_side = old
    assert answer['resized_from'] == [256, 150]
    assert answer['size'] == [100, 59]


def test_info_names_model_device_classes_and_heads(service):
    info = service.info()
    assert info['classes'] == CLASSES
    assert info['num_heads'] == NUM_HEADS
    assert info['device'].startswith('cpu')


def test_synthfer_model_says_what_it_knows(service):
    """The SynthFER model's labels on real photos mean nothing: the info
    and every answer carry the notice, and the page shows it next to the
    results."""
    notice = service.info()['notice']
    assert notice.startswith('this model was trained on drawn SynthFER '
                             'faces, not photos')
    assert 'dan_r18_3rdparty_rafdb' in notice and 'train on RAF-DB' in notice
    assert service.predict(encode(faces_photo()))['notice'] == notice
    with open(osp.join(STATIC_DIR, 'index.html')) as f:
        assert 'id="model-notice"' in f.read()
    with open(osp.join(STATIC_DIR, 'demo.js')) as f:
        assert "$('model-notice').hidden = !answer.notice" in f.read()


def test_real_face_model_has_no_notice(service):
    from mmengine.config import Config

    from dan_mm.inference import model_notice
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'dan_r18_rafdb.py'))
    assert model_notice(cfg) is None


def test_page_loads_nothing_from_elsewhere():
    # The page must work offline: no CDN script, font or stylesheet.
    for name in os.listdir(STATIC_DIR):
        with open(osp.join(STATIC_DIR, name), encoding='utf-8') as f:
            text = f.read()
        assert not re.search(r'(https?:)?//[a-z0-9.-]+\.[a-z]{2,}', text,
                             re.I), name
        assert '@import' not in text and 'url(' not in text, name


# --- HTTP: errors and the queue ---


class GatedService:
    """Wraps the real service; predict waits for ``gate`` (a queue builds
    up) and counts how many run at once."""

    def __init__(self, service):
        self.service = service
        self.gate = threading.Event()
        self.running = self.most_running = 0

    def info(self):
        return self.service.info()

    def predict(self, data, whole_image=False):
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            self.gate.wait(30)
            if data == b'crash':
                raise RuntimeError('a bug')
            return self.service.predict(data, whole_image)
        finally:
            self.running -= 1


@pytest.fixture
def server(service):
    """The app on a free 127.0.0.1 port in a thread: (url, gated)."""
    gated = GatedService(service)
    app = create_app(gated, max_upload_mb=0.5, max_queue=2)
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    uv = uvicorn.Server(uvicorn.Config(app, log_level='critical'))
    thread = threading.Thread(target=uv.run, kwargs=dict(sockets=[sock]))
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and thread.is_alive() and \
            time.monotonic() < deadline:
        time.sleep(0.01)
    assert uv.started
    yield f'http://127.0.0.1:{sock.getsockname()[1]}', gated
    gated.gate.set()
    uv.should_exit = True
    thread.join(30)
    sock.close()


def call(url, data=None):
    """(status, decoded JSON or text) of a GET, or a POST of ``data``."""
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def test_http_page_errors_and_answers(server):
    url, gated = server
    gated.gate.set()
    status, page = call(url + '/')
    assert status == 200 and 'static/demo.js' in page
    assert call(url + '/static/demo.js')[0] == 200
    assert call(url + '/docs')[0] == 404  # its assets would come from a CDN
    status, answer = call(url + '/api/predict', b'not an image')
    assert status == 400 and 'not an image' in answer['error']
    status, answer = call(url + '/api/predict', b'x' * (600 * 1024))
    assert status == 413 and '0.5 MB' in answer['error']
    status, answer = call(url + '/api/predict', b'crash')
    assert status == 500 and 'RuntimeError' in answer['error']
    status, answer = call(url + '/api/predict?whole_image=true',
                          encode(np.full((40, 50, 3), 90, np.uint8)))
    assert status == 200 and len(answer['faces']) == 1  # still serving


def test_http_requests_queue_and_the_server_stays_up(server):
    url, gated = server
    photo = encode(faces_photo(copies=1, width=96))
    with ThreadPoolExecutor(5) as pool:
        first = [
            pool.submit(call, url + '/api/predict', photo) for _ in range(2)
        ]
        deadline = time.monotonic() + 30
        while call(url + '/api/info')[1]['waiting'] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        # The queue is full: more photos are turned away at once, and the
        # server goes on answering.
        rejected = [
            pool.submit(call, url + '/api/predict', photo) for _ in range(3)
        ]
        for future in rejected:
            status, answer = future.result(timeout=30)
            assert status == 503 and 'busy' in answer['error']
        assert all(not f.done() for f in first)
        gated.gate.set()
        for future in first:
            status, answer = future.result(timeout=60)
            assert status == 200 and len(answer['faces']) == 1
    assert gated.most_running == 1  # one image at a time on the model
    status, info = call(url + '/api/info')
    assert status == 200 and info['waiting'] == 0


# --- the command line ---


def test_find_last_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match='tools/train.py cfg/my.py'):
        find_last_checkpoint('cfg/my.py')
    work_dir = tmp_path / 'work_dirs' / 'my'
    work_dir.mkdir(parents=True)
    (work_dir / 'epoch_3.pth').write_bytes(b'')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
    assert find_last_checkpoint('cfg/my.py') == str(work_dir / 'epoch_3.pth')
    # The work dir was moved here from elsewhere.
    (work_dir / 'last_checkpoint').write_text('/gone/work_dirs/my/epoch_3.pth')
    assert osp.samefile(
        find_last_checkpoint('cfg/my.py'), work_dir / 'epoch_3.pth')
    (work_dir / 'epoch_3.pth').unlink()
    with pytest.raises(CheckpointError, match='which does not exist'):
        find_last_checkpoint('cfg/my.py')


def test_tool_without_a_trained_model_says_how_to_get_one(
        tmp_path, monkeypatch):
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    code, _, err = run_tool(WEB_DEMO, cwd=tmp_path)  # no work_dirs/ here
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('error: no checkpoint given')
    assert 'work_dirs/dan_r18_synthfer/last_checkpoint' in lines[0]
    assert 'python tools/train.py' in lines[0]


def test_tool_without_the_demo_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, 'uvicorn', None)  # not installed
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    code, _, err = run_tool(WEB_DEMO)
    assert code == 1
    assert err.strip() == ('error: the web demo needs uvicorn: pip install -r '
                           'requirements/demo.txt (or pip install ".[demo]")')


def test_tool_on_a_missing_device_is_one_error_line(tmp_path, monkeypatch):
    """``--device cuda:0`` on a machine without CUDA used to end in a
    37-line traceback; now one line, before the model is built."""
    import torch
    device = f'cuda:{torch.cuda.device_count()}'  # one past the last GPU
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    code, _, err = run_tool(WEB_DEMO, CONFIG, checkpoint, '--device', device)
    assert code == 1
    (line, ) = err.strip().splitlines()
    assert line.startswith(f'error: --device {device}: ')


def test_predict_on_onnxruntime_keeps_the_panels(tmp_path):
    from onnx_test_utils import tiny_onnx
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    service = DemoService.from_files(
        CONFIG,
        checkpoint,
        device='cpu',
        panel_size=64,
        onnx_file=tiny_onnx(tmp_path / 'tiny.onnx'),
        num_threads=1)
    assert 'ONNX Runtime (1 threads' in service.info()['device']
    on_pytorch = DemoService.from_files(
        CONFIG, checkpoint, device='cpu', panel_size=64)
    for whole_image in (False, True):
        photo = encode(faces_photo(copies=1))
        (face, ) = service.predict(photo, whole_image)['faces']
        (expected, ) = on_pytorch.predict(photo, whole_image)['faces']
        # Every answer has panels, so PyTorch classifies in the same pass
        # (the tiny file's uniform scores are not used).
        for got, want in zip(face['scores'], expected['scores']):
            assert got['p'] == pytest.approx(want['p'], abs=1e-6)
        assert not all(s['p'] == pytest.approx(1 / 7, abs=1e-4)
                       for s in face['scores'])
        assert from_data_url(face['panels']).shape[0] > 0
