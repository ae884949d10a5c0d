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


def test_predict_marks_faces_below_the_slider_uncertain(service):
    photo = encode(faces_photo(copies=2))
    plain = service.predict(photo)
    assert not any(face['uncertain'] for face in plain['faces'])
    # between the two faces' scores (rounded in the answer)
    between = np.mean([face['score'] for face in plain['faces']])
    marked = service.predict(photo, min_confidence=1.0)
    assert all(face['uncertain'] for face in marked['faces'])
    # the class and probabilities stay; only the drawn label becomes "?"
    assert [f['label'] for f in marked['faces']] == \
        [f['label'] for f in plain['faces']]
    assert marked['image'] != plain['image']
    edge = service.predict(photo, min_confidence=float(between))
    assert [f['uncertain'] for f in edge['faces']] == \
        [f['score'] < between for f in plain['faces']]
    page = open(osp.join(STATIC_DIR, 'index.html')).read()
    assert 'id="min-confidence"' in page
    assert service.info()['calibration'] is None  # a raw model


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

    def predict(self, data, whole_image=False, min_confidence=None):
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            self.gate.wait(30)
            if data == b'crash':
                raise RuntimeError('a bug')
            return self.service.predict(data, whole_image, min_confidence)
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
    status, answer = call(url + '/api/predict?min_confidence=1',
                          encode(np.full((40, 50, 3), 90, np.uint8)))
    assert status == 200 and answer['message'] is not None  # no face
    status, answer = call(url + '/api/predict?min_confidence=1.5', b'x')
    assert status == 400 and 'min_confidence 1.5' in answer['error']


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


# --- uploads as forms, ports ---


def multipart(fields, boundary='dan-mm-test-boundary'):
    """``(body, content type)`` of a form, as ``curl -F`` sends it:
    ``fields`` maps names to ``bytes`` (a file) or ``str`` (a value)."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            head = (f'Content-Disposition: form-data; name="{name}"; '
                    f'filename="{name}.png"\r\nContent-Type: image/png')
        else:
            head = f'Content-Disposition: form-data; name="{name}"'
            value = value.encode()
        parts.append(f'--{boundary}\r\n{head}\r\n\r\n'.encode() + value +
                     b'\r\n')
    body = b''.join(parts) + f'--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


def post(url, body, content_type):
    request = urllib.request.Request(
        url, data=body, headers={'Content-Type': content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_http_form_uploads_as_curl_sends_them(server):
    """``curl -F file=@photo.jpg`` used to get "corrupt or not an image"
    (the whole form was taken for the image)."""
    url, gated = server
    gated.gate.set()
    photo = encode(faces_photo(copies=2, width=96))
    status, answer = post(url + '/api/predict',
                          *multipart(dict(note='hi', file=photo)))
    assert status == 200 and len(answer['faces']) == 2
    status, raw = post(url + '/api/predict', photo, 'image/png')
    assert status == 200  # the raw body, as before
    assert [f['scores'] for f in raw['faces']] == \
        [f['scores'] for f in answer['faces']]
    status, answer = post(url + '/api/predict', *multipart(dict(note='hi')))
    assert status == 400
    assert answer['error'].startswith('the form has no file: send the photo '
                                      'as a file field (curl -F')
    status, answer = post(url + '/api/predict', b'garbage',
                          'multipart/form-data; boundary=zz')
    assert status == 400 and 'the form upload cannot be read' in \
        answer['error']


@pytest.fixture
def demo_checkpoint(tmp_path):
    return save_checkpoint(build_model(), tmp_path / 'dan.pth')


def test_tool_on_a_port_in_use_is_one_error_line(demo_checkpoint, monkeypatch):
    """It used to print "open http://..." first, then uvicorn's
    [Errno 98], and exit 3."""
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    with socket.create_server(('127.0.0.1', 0)) as busy:
        port = busy.getsockname()[1]
        code, out, err = run_tool(WEB_DEMO, CONFIG, demo_checkpoint, '--port',
                                  port)
    assert code == 1 and out == ''
    assert err.strip() == (
        f'error: cannot listen on 127.0.0.1:{port}: the port is in use '
        '(another server, or another demo); pick another --port (--port 0: '
        'any free one)')


def test_tool_on_port_0_prints_the_real_port(demo_checkpoint, monkeypatch):
    served = []

    def run(self, sockets=None):
        served.extend(sockets)  # instead of serving until Ctrl+C

    monkeypatch.setattr(uvicorn.Server, 'run', run)
    code, out, err = run_tool(WEB_DEMO, CONFIG, demo_checkpoint, '--port', 0)
    assert code == 0, err
    (sock, ) = served
    port = sock.getsockname()[1]
    sock.close()
    assert port != 0
    assert f'open http://127.0.0.1:{port} (Ctrl+C stops it)' in out
    assert 'Loads checkpoint' not in out


def test_tool_help_shows_the_defaults():
    code, out, _ = run_tool(WEB_DEMO, '--help')
    assert code == 0
    text = ' '.join(out.split())
    assert '0: any free port (default: 7860)' in text
    assert '(default: 127.0.0.1)' in text
