"""The authors' released models by name: downloaded from a local server on
127.0.0.1 (standing in for Google Drive), converted, cached, refused when
what came is no checkpoint; the same logits as the reference network."""
import json
import logging
import os
import subprocess
import sys
import time

import matplotlib.cbook as cbook
import pytest
import torch
from fer_test_utils import REPO
from mmpretrain import get_model
from reference_dan import save_reference_checkpoint
from tool_runner import run_tool

from dan_mm.utils.cli import report_logger
from dan_mm.utils.errors import CheckpointDownloadError
from dan_mm.zoo import (cached_checkpoint, checkpoint_dir, model_names,
                        resolve_model)

RAFDB = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
         'Neutral')
AFFECTNET = ('Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger',
             'Contempt')
MODELS = {
    'dan_r18_3rdparty_affectnet8':
    ('affecnet8_epoch5_acc0.6209.pth', AFFECTNET),
    'dan_r18_3rdparty_affectnet7':
    ('affecnet7_epoch6_acc0.6569.pth', AFFECTNET[:7]),
    'dan_r18_3rdparty_rafdb': ('rafdb_epoch21_acc0.897_bacc0.8275.pth', RAFDB),
}


class _Lines(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def warnings_shown():
    """The warning lines the package gives the tools to show (its report
    logger), whether or not a tool has switched that logger's output on."""
    handler = _Lines()
    report_logger().addHandler(handler)
    yield handler.lines
    report_logger().removeHandler(handler)


def cache_files():
    """What the cache holds, apart from lock files."""
    folder = checkpoint_dir()
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if not f.endswith('.lock'))


def test_the_zoo_lists_the_three_released_models():
    assert model_names() == list(MODELS)


@pytest.mark.parametrize('name', list(MODELS))
def test_named_model_from_a_url_matches_the_reference(name, server, zoo_home):
    file, classes = MODELS[name]
    # DataParallel's prefix on one of them: both layouts are the authors'
    reference = save_reference_checkpoint(
        server.root + '/' + file, num_classes=len(classes))
    if name.endswith('affectnet7'):
        ckpt = torch.load(server.root + '/' + file, weights_only=False)
        ckpt['model_state_dict'] = {
            f'module.{k}': v
            for k, v in ckpt['model_state_dict'].items()
        }
        torch.save(ckpt, server.root + '/' + file)

    model = get_model(name, pretrained=server.url(file))
    assert server.requests == [file]
    assert list(model._dataset_meta['classes']) == list(classes)
    torch.manual_seed(1)
    x = torch.randn(2, 3, 112, 112)
    reference.eval()
    with torch.no_grad():
        expected, _, _ = reference(x)
        logits = model(x, mode='tensor')
    assert (logits - expected).abs().max().item() <= 1e-4

    again = get_model(name, pretrained=server.url(file))
    assert server.requests == [file]  # the cache, no request
    assert torch.equal(again.state_dict()['head.fc.weight'],
                       model.state_dict()['head.fc.weight'])
    assert file.replace('.pth', '.dan_mm.pth') in cache_files()


@pytest.mark.parametrize('what', ['html', 'truncated', 'unreachable'])
def test_failed_download_is_one_line_and_leaves_nothing(
        what, server, zoo_home):
    save_reference_checkpoint(server.root + '/ref.pth')
    url = server.url('ref.pth')
    if what == 'html':
        server.html.add('ref.pth')
    elif what == 'truncated':
        server.cut.add('ref.pth')
    else:
        url = 'http://127.0.0.1:9/ref.pth'  # the discard port: closed
    start = time.monotonic()
    with pytest.raises(CheckpointDownloadError) as err:
        cached_checkpoint(url, progress=False)
    assert time.monotonic() - start < 20
    message = str(err.value)
    assert '\n' not in message and f'cannot download {url}' in message
    assert {
        'html': 'HTML page',
        'truncated': 'incomplete',
        'unreachable': 'no connection'
    }[what] in message
    assert cache_files() == []


def test_drive_failure_names_the_drive_url_and_the_mirror(
        zoo_home, monkeypatch):
    # every request goes to a closed port on this machine
    for var in ('HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'):
        monkeypatch.setenv(var, 'http://127.0.0.1:9')
    monkeypatch.delenv('NO_PROXY', raising=False)
    monkeypatch.delenv('no_proxy', raising=False)
    with pytest.raises(CheckpointDownloadError) as err:
        resolve_model('dan_r18_3rdparty_rafdb', progress=False)
    message = str(err.value)
    assert 'https://drive.google.com/uc?id=1ASabP5wkLUIh4VQc8CEuZbZyLJEFaTMF' \
        in message
    assert 'https://pan.baidu.com/s/1NL-Yhuw5hF19uDWu-cF2-A (key 0000)' \
        in message
    target = os.path.join(checkpoint_dir(),
                          'rafdb_epoch21_acc0.897_bacc0.8275.pth')
    assert f'put it at {target}' in message
    assert cache_files() == []


def test_a_file_put_into_the_cache_by_hand_is_used_offline(
        zoo_home, monkeypatch):
    for var in ('HTTPS_PROXY', 'https_proxy'):
        monkeypatch.setenv(var, 'http://127.0.0.1:9')
    os.makedirs(checkpoint_dir())
    save_reference_checkpoint(
        os.path.join(checkpoint_dir(), 'affecnet8_epoch5_acc0.6209.pth'),
        num_classes=8)
    config, checkpoint = resolve_model(
        'dan_r18_3rdparty_affectnet8', progress=False)
    assert config.endswith('configs/dan_r18_3rdparty_affectnet8.py')
    assert checkpoint.endswith('affecnet8_epoch5_acc0.6209.dan_mm.pth')
    saved = torch.load(checkpoint, weights_only=True)
    assert saved['meta']['dataset_meta']['classes'] == list(AFFECTNET)
    assert 'sha256.json' in cache_files()


def test_another_file_later_is_a_one_line_warning(server, zoo_home,
                                                  warnings_shown):
    save_reference_checkpoint(server.root + '/ref.pth', seed=0)
    path = cached_checkpoint(server.url('ref.pth'), progress=False)
    # upstream replaced the file: the cache is cleared, it comes again
    os.remove(path)
    os.remove(os.path.join(checkpoint_dir(), 'ref.pth'))
    save_reference_checkpoint(server.root + '/ref.pth', seed=1)
    cached_checkpoint(server.url('ref.pth'), progress=False)
    assert len(warnings_shown) == 1 and '\n' not in warnings_shown[0]
    assert 'differs from the copy first downloaded' in warnings_shown[0]


@pytest.mark.slow
def test_two_processes_at_once_leave_one_good_file(server, zoo_home, tmp_path):
    save_reference_checkpoint(server.root + '/ref.pth')
    server.delay = 1.0  # both start before either has the file
    code = ('import sys; from dan_mm.zoo import cached_checkpoint; '
            'print(cached_checkpoint(sys.argv[1], progress=False))')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = [
        subprocess.Popen([sys.executable, '-c', code,
                          server.url('ref.pth')],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         text=True,
                         env=env) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    paths = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert len(paths) == 1
    assert server.requests == ['ref.pth']  # one downloaded, one waited
    assert cache_files() == ['ref.dan_mm.pth', 'ref.pth', 'sha256.json']
    checkpoint = torch.load(paths.pop(), weights_only=True)
    assert checkpoint['meta']['converted_from'] == 'DAN reference'


@pytest.mark.slow
def test_infer_with_a_name_offline_is_one_line_naming_the_drive_url(
        tmp_path, zoo_home):
    photo = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        HTTPS_PROXY='http://127.0.0.1:9',
        HTTP_PROXY='http://127.0.0.1:9')
    env.pop('NO_PROXY', None)
    start = time.monotonic()
    proc = subprocess.run([
        sys.executable, 'tools/infer.py', 'dan_r18_3rdparty_rafdb', photo,
        '--out-dir',
        str(tmp_path / 'out')
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert time.monotonic() - start < 30
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
    assert 'https://drive.google.com/uc?id=1ASabP5wkLUIh4VQc8CEuZbZyLJEFaTMF' \
        in lines[0]
    assert cache_files() == []


@pytest.fixture
def rafdb_in_cache(zoo_home, monkeypatch):
    """The RAF-DB file put into the cache by hand (as from the Baidu
    mirror), every request bound for a closed port: each entry point must
    work from the cache alone."""
    for var in ('HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'):
        monkeypatch.setenv(var, 'http://127.0.0.1:9')
    monkeypatch.delenv('NO_PROXY', raising=False)
    os.makedirs(checkpoint_dir())
    return save_reference_checkpoint(
        os.path.join(checkpoint_dir(), MODELS['dan_r18_3rdparty_rafdb'][0]))


def test_every_python_entry_point_takes_a_name(rafdb_in_cache):
    from mmpretrain import inference_model

    from dan_mm.inference import FERInferencer
    name = 'dan_r18_3rdparty_rafdb'
    model = get_model(name, pretrained=True)
    assert list(model._dataset_meta['classes']) == list(RAFDB)
    face = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
    result = inference_model(name, face)
    assert result['pred_class'] in RAFDB
    inferencer = FERInferencer(name, no_detect=True)
    assert list(inferencer.classes) == list(RAFDB)
    assert inferencer.model_notice is None  # a real-face model
    faces = inferencer(face)[0]['faces']
    assert len(faces) == 1 and faces[0]['pred_class'] in RAFDB


@pytest.mark.slow
def test_the_tools_take_a_name(rafdb_in_cache, tmp_path):
    photo = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
    out = tmp_path / 'out'
    proc = run_tool(
        'tools/infer.py',
        'dan_r18_3rdparty_rafdb',
        photo,
        '--out-dir',
        out,
        '--detector',
        'haar',
        # (a random model: the ONNX export's check is for trained weights)
        '--backend',
        'pytorch',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(
        (out / 'predictions.jsonl').read_text().splitlines()[0])
    assert record['faces'] and record['faces'][0]['pred_class'] in RAFDB
    proc = run_tool(
        'tools/visualize_attention.py',
        'dan_r18_3rdparty_rafdb',
        photo,
        '--out',
        tmp_path / 'attention.png',
        '--detector',
        'haar',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / 'attention.png').is_file()


def test_infer_without_a_model_lists_the_names():
    proc = run_tool('tools/infer.py')
    assert proc.returncode != 0
    (line, ) = [ln for ln in proc.stderr.splitlines() if 'error' in ln]
    for name in MODELS:
        assert name in line
