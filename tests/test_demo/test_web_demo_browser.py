"""The web demo in a real browser: Debian's headless Chromium, driven by
Playwright, against ``tools/demo/web_demo.py`` started as a user starts it.

The page's screenshot is saved as ``web_demo.png`` in pytest's tmp dir (the
test prints the path), or in ``$DAN_MM_TEST_ARTIFACTS``. The model is a
randomly initialised DAN unless ``$DAN_MM_DEMO_CHECKPOINT`` names a trained
one (docs/images/web_demo.png was made with the SynthFER model that way, see
docs/inference.md).
"""
import io
import os
import os.path as osp
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from fer_fixtures import face
from fer_test_utils import (CONFIG, REPO, build_model, face_photo,
                            save_checkpoint)
from PIL import Image

from dan_mm.visualization import face_colour

CHROMIUM = '/usr/bin/chromium'
# Headless Chromium on a closed network, as root: no sandbox, no calls home;
# every host name but this machine's fails, so the page must need none.
CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    # A camera that shows a moving test pattern, allowed without asking.
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream'
]
CLASSES = 'Surprise|Fear|Disgust|Happiness|Sadness|Anger|Neutral'
PANEL_SIZE, NUM_HEADS = 128, 4


def demo_photo():
    """A real photo (Grace Hopper) beside two drawn SynthFER faces,
    Happiness and Surprise, as tall as it: three faces for the Haar
    detector. BGR."""
    real = face_photo(200)
    drawn = [face(label, seed=103, size=real.shape[0]) for label in (3, 0)]
    return np.ascontiguousarray(
        np.concatenate([real] + [d[..., ::-1] for d in drawn], axis=1))


def save_small_png(png: bytes, path: str) -> None:
    """A screenshot as a 256-colour PNG: a fraction of the size."""
    img = Image.open(io.BytesIO(png)).convert('RGB')
    img.quantize(
        256, method=Image.Quantize.FASTOCTREE).save(
            path, optimize=True)


@pytest.fixture
def demo_url(tmp_path):
    """``tools/demo/web_demo.py CONFIG CKPT --port 0`` in a subprocess;
    yields its URL, then stops it (Ctrl+C) and checks it stopped cleanly."""
    checkpoint = os.environ.get('DAN_MM_DEMO_CHECKPOINT') or \
        save_checkpoint(build_model(), tmp_path / 'dan.pth')
    server = subprocess.Popen(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'demo', 'web_demo.py'),
            CONFIG,
            checkpoint,
            '--port',
            '0',
            '--device',
            'cpu',
            # RetinaFace (the default) finds the real face but not the drawn
            # SynthFER ones; the Haar cascade finds all three.
            '--detector',
            'haar'
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)
    lines = queue.Queue()
    log = []

    def read():
        for line in server.stdout:
            log.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    # The tool names the port it bound (--port 0: a free one); uvicorn then
    # serves that socket and says when it is up.
    url, ready, deadline = None, False, time.monotonic() + 180
    while not (url and ready):
        try:
            line = lines.get(timeout=max(0, deadline - time.monotonic()))
        except queue.Empty:
            break
        found = re.search(r'open (http://127\.0\.0\.1:\d+)', line)
        url = url or (found and found.group(1))
        ready = ready or 'Application startup complete' in line
    if not (url and ready):
        server.kill()
        pytest.fail('the demo did not start:\n' + ''.join(log))
    try:
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail('the demo did not stop on Ctrl+C')
    assert server.returncode == 0, ''.join(log)
    assert 'Traceback' not in ''.join(log), ''.join(log)


def upload(page, name, data, mime):
    page.set_input_files(
        '#file', files=[dict(name=name, mimeType=mime, buffer=data)])


@pytest.mark.slow
def test_demo_page_in_chromium(demo_url, tmp_path):
    if not osp.isfile(CHROMIUM):
        pytest.fail(f'{CHROMIUM} is missing: apt-get install chromium '
                    '(.ci/run installs it)')
    from playwright.sync_api import expect, sync_playwright

    artefacts = os.environ.get('DAN_MM_TEST_ARTIFACTS') or str(tmp_path)
    os.makedirs(artefacts, exist_ok=True)
    photo = demo_photo()
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=dict(width=1000, height=800))
        page.on('request', lambda request: requests.append(request.url))
        page.set_default_timeout(120_000)
        page.goto(demo_url)
        expect(page.locator('#model-info')).to_contain_text(
            '4 attention heads, on cpu')

        # A photo with three faces: boxed, labelled, bars and panels.
        upload(page, 'faces.png',
               cv2.imencode('.png', photo)[1].tobytes(), 'image/png')
        faces = page.locator('#faces .face')
        expect(faces).to_have_count(3)
        for i in range(3):
            # the number and colour the face has on the drawn photo
            expect(faces.nth(i).locator('.face-label')).to_have_text(
                re.compile(rf'#{i + 1} ?({CLASSES}) \d+\.\d%'))
            red, green, blue = (
                int(face_colour(i + 1)[k:k + 2], 16) for k in (1, 3, 5))
            expect(faces.nth(i).locator('.swatch')).to_have_css(
                'background-color', f'rgb({red}, {green}, {blue})')
            expect(faces.nth(i).locator('.bar')).to_have_count(7)
            expect(faces.nth(i).locator('.bar.top')).to_have_count(1)
        if os.environ.get('DAN_MM_DEMO_CHECKPOINT'):  # a trained model
            expect(faces.locator('.face-label')).to_contain_text(
                [re.compile('.'), 'Happiness', 'Surprise'])
        expect(page.locator('#timing')).to_contain_text(
            re.compile(r'3 faces in \d+\.\d\d s on the server .* on cpu'))
        # A model of drawn faces says so next to its labels.
        expect(page.locator('#model-notice')).to_be_visible()
        expect(page.locator('#model-notice')).to_contain_text(
            'Note: This model was trained on drawn SynthFER faces, not '
            'photos: its labels on real photos are not meaningful')
        loaded = 'i => i.complete ? i.naturalWidth : 0'
        assert page.eval_on_selector('#result-image', loaded) == photo.shape[1]
        assert page.eval_on_selector_all(
            'img.panels', f'imgs => imgs.map({loaded})'
        ) == [PANEL_SIZE * (NUM_HEADS + 1)] * 3  # the crop, then each head
        screenshot = osp.join(artefacts, 'web_demo.png')
        save_small_png(page.screenshot(full_page=True), screenshot)
        print(f'screenshot: {screenshot}')

        # No face: said so, with the offer to classify the whole image.
        upload(
            page, 'wall.png',
            cv2.imencode('.png', np.full((120, 160, 3), 200,
                                         np.uint8))[1].tobytes(), 'image/png')
        expect(page.locator('#message-text')).to_contain_text('No face found')
        page.click('#whole-image')
        expect(faces).to_have_count(1)
        expect(page.locator('#timing')).to_contain_text(
            '1 face (the whole image as one face)')

        # Not an image: a message on the page, no result, no crash.
        upload(page, 'notes.txt', b'not a photo', 'text/plain')
        expect(page.locator('#message-text')).to_contain_text(
            'corrupt or not an image')
        expect(page.locator('#result')).to_be_hidden()

        # A camera snapshot (Chromium's fake camera: a test pattern).
        page.click('#camera-start')
        page.wait_for_function(
            "document.getElementById('camera').videoWidth > 0")
        page.click('#camera-snap')
        expect(page.locator('#message-text')).to_contain_text('No face found')
        expect(page.locator('#timing')).to_contain_text('0 faces')
        browser.close()

    # Offline: the page asked nothing of any other host.
    assert requests and all(
        u.startswith((demo_url, 'data:', 'blob:')) for u in requests), requests
    assert osp.getsize(screenshot) < 300_000
