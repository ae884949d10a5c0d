"""Checkpoints load with weights_only=True and an allow-list; a checkpoint
that would run code is refused everywhere, unless the user opts in."""
import collections
import glob
import os.path as osp

import mmpretrain
import numpy as np
import pytest
import torch
import torchvision
from config_utils import write_config
from fer_test_utils import (build_model, save_booby_trapped_checkpoint,
                            save_checkpoint, serve_directory)
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import load_checkpoint
from reference_dan import save_reference_checkpoint
from tool_runner import run_tool

from dan_mm.utils import (CheckpointError, CheckpointNotFoundError,
                          UnsafeCheckpointError, UserError)
from dan_mm.utils import checkpoint as dan_checkpoint_module
from dan_mm.utils import load_checkpoint_file, trust_checkpoints
from dan_mm.utils.checkpoint import SAFE_GLOBALS, TRUST_ENV

CONVERTER = 'tools/model_converters/dan_to_mmpretrain.py'


@pytest.fixture(autouse=True)
def untrusted(monkeypatch):
    """Every test starts without the opt-in, whatever the environment."""
    monkeypatch.delenv(TRUST_ENV, raising=False)


def allowed_names():
    return {
        item[1] if isinstance(item, tuple) else
        f'{item.__module__}.{item.__qualname__}'
        for item in SAFE_GLOBALS
    }


def assert_only_allowed_globals(path):
    """What the file needs beyond PyTorch's own list is on ours."""
    needed = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    assert needed <= allowed_names(), needed - allowed_names()


def assert_refusal(message, name):
    assert '\n' not in message
    assert f'refused to load checkpoint {name}: it needs ' in message
    assert 'pathlib.Path' in message  # the type it wanted
    assert '--trust-checkpoint' in message
    assert f'{TRUST_ENV}=1' in message
    assert 'trust_checkpoints()' in message


def trapped(tmp_path, name='trap.pth'):
    marker = tmp_path / f'{name}.ran'
    path = save_booby_trapped_checkpoint(
        {'state_dict': {
            'weight': torch.ones(2, 3)
        }}, tmp_path / name, marker)
    return path, marker


def test_trap_works_when_loaded_in_full(tmp_path):
    # the test checkpoint really would run code
    path, marker = trapped(tmp_path)
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_crafted_checkpoint_is_refused_and_nothing_runs(tmp_path):
    path, marker = trapped(tmp_path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_file(path)
    assert isinstance(err.value, UserError)
    assert_refusal(str(err.value), path)
    # mmengine's loader (load_from, init_cfg Pretrained, resume, get_model)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(torch.nn.Linear(3, 2), path)
    assert not marker.exists()


@pytest.mark.parametrize('how', ['function', 'environment'])
def test_opt_in_loads_a_trusted_file_in_full(tmp_path, monkeypatch, how):
    path, marker = trapped(tmp_path)
    if how == 'function':
        trust_checkpoints()
    else:
        monkeypatch.setenv(TRUST_ENV, '1')
    checkpoint = load_checkpoint_file(path)
    assert marker.exists()
    assert torch.equal(checkpoint['state_dict']['weight'], torch.ones(2, 3))
    trust_checkpoints(False)
    marker.unlink()
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert not marker.exists()


class StatisticOf:
    """Pickles as ``getattr(owner, name)``, as HistoryBuffer's methods do."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


@pytest.mark.parametrize('owner,name', [(HistoryBuffer, 'update'),
                                        (np.ndarray, 'tofile'),
                                        (HistoryBuffer, '__init__')])
def test_getattr_is_allowed_only_for_history_buffer_statistics(
        tmp_path, owner, name):
    torch.save({'ok': StatisticOf(HistoryBuffer, 'mean')}, tmp_path / 'a.pth')
    assert load_checkpoint_file(tmp_path / 'a.pth')['ok'] is \
        HistoryBuffer.mean
    torch.save({'bad': StatisticOf(owner, name)}, tmp_path / 'b.pth')
    with pytest.raises(UnsafeCheckpointError, match=f'getattr.*{name}'):
        load_checkpoint_file(tmp_path / 'b.pth')


@pytest.mark.parametrize('content', [b'', b'hello', b'PK\x03\x04truncated'])
def test_damaged_file_is_a_user_error(tmp_path, content):
    (tmp_path / 'bad.pth').write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_file(tmp_path / 'bad.pth')
    assert not isinstance(err.value, UnsafeCheckpointError)
    message = str(err.value)
    assert '\n' not in message and len(message) < 300
    assert f'cannot read checkpoint {tmp_path / "bad.pth"}: ' in message


def _legacy_pickle_cut_short(path):
    torch.save({'a': torch.ones(3)},
               path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize(
    'what',
    ['text', 'html', 'zip cut short', 'legacy cut short', 'lfs pointer'])
def test_a_file_that_is_no_checkpoint_does_not_suggest_trusting_it(
        tmp_path, what):
    """Only a file holding types outside the allow-list suggests the opt-in:
    for a text file, a web page or a cut-off download it would not help."""
    path = tmp_path / 'bad.pth'
    if what == 'text':
        path.write_text('hello world\n')
    elif what == 'html':
        path.write_text('<!DOCTYPE html><html>Quota exceeded</html>')
    elif what == 'zip cut short':
        torch.save({'a': torch.ones(100)}, path)
        path.write_bytes(path.read_bytes()[:300])
    elif what == 'lfs pointer':
        path.write_text('version https://git-lfs.github.com/spec/v1\n')
    else:
        _legacy_pickle_cut_short(path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_file(path)
    message = str(err.value)
    assert not isinstance(err.value, UnsafeCheckpointError)
    assert 'trust' not in message and '\n' not in message
    assert message.startswith(f'cannot read checkpoint {path}: not a '
                              'PyTorch checkpoint, or damaged')
    expected = {
        'html': 'HTML page',
        'zip cut short': 'zip archive without its end',
        'lfs pointer': 'Git LFS pointer',
        'text': "starts with b'hello world",
    }.get(what)
    if expected:
        assert expected in message


def test_only_types_outside_the_allow_list_suggest_the_opt_in(tmp_path):
    path, _ = trapped(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match='--trust-checkpoint'):
        load_checkpoint_file(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match='nope.pth') as err:
        load_checkpoint_file(tmp_path / 'nope.pth')
    assert isinstance(err.value, FileNotFoundError)


def test_urls_go_through_the_safe_loader(tmp_path, monkeypatch):
    monkeypatch.setenv('DAN_MM_HOME', str(tmp_path / 'dan_mm_home'))
    served = tmp_path / 'served'
    served.mkdir()
    buffer = HistoryBuffer()
    buffer.update(0.5)
    torch.save({
        'state_dict': {
            'weight': torch.ones(2)
        },
        'hub': buffer
    }, served / 'good.pth')
    _, marker = trapped(served)
    with serve_directory(served) as base:
        good = mmengine_checkpoint._load_checkpoint(f'{base}/good.pth')
        with pytest.raises(UnsafeCheckpointError) as err:
            mmengine_checkpoint._load_checkpoint(f'{base}/trap.pth')
    assert good['hub'].mean() == 0.5
    assert osp.isfile(tmp_path / 'dan_mm_home/checkpoints/good.pth')
    assert_refusal(str(err.value), f'{base}/trap.pth')
    assert not marker.exists()


@pytest.mark.parametrize('scheme,models', [
    ('torchvision://', 'get_torchvision_models'),
    ('open-mmlab://', 'get_external_models'),
    ('mmcls://', 'get_mmcls_models'),
])
def test_model_names_go_through_the_safe_loader(tmp_path, monkeypatch, scheme,
                                                models):
    """mmengine's named-model schemes download a URL from its model lists:
    that download is safe too."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    served = tmp_path / 'served'
    served.mkdir()
    torch.save({'state_dict': {
        'backbone.weight': torch.ones(2)
    }}, served / 'good.pth')
    _, marker = trapped(served)
    with serve_directory(served) as base:
        urls = {'good': f'{base}/good.pth', 'trap': f'{base}/trap.pth'}
        monkeypatch.setattr(dan_checkpoint_module, models, lambda: urls)
        good = mmengine_checkpoint._load_checkpoint(f'{scheme}good')
        with pytest.raises(UnsafeCheckpointError) as err:
            mmengine_checkpoint._load_checkpoint(f'{scheme}trap')
    # mmcls:// keeps the backbone's weights without their prefix
    key = 'weight' if scheme == 'mmcls://' else 'backbone.weight'
    assert torch.equal(good['state_dict'][key], torch.ones(2))
    assert_refusal(str(err.value), f'{base}/trap.pth')
    assert not marker.exists()


def test_open_mmlab_cache_files_go_through_the_safe_loader(
        tmp_path, monkeypatch):
    """open-mmlab:// names that map to a file in mmengine's cache."""
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    _, marker = trapped(tmp_path)
    monkeypatch.setattr(dan_checkpoint_module, 'get_external_models',
                        lambda: {'trap': 'trap.pth'})
    with pytest.raises(UnsafeCheckpointError) as err:
        mmengine_checkpoint._load_checkpoint('openmmlab://trap')
    assert_refusal(str(err.value), str(tmp_path / 'trap.pth'))
    assert not marker.exists()


def test_other_project_formats_load_without_opt_in(tmp_path):
    """Files of the formats the reference and mmpretrain write."""
    # a few of torchvision's ResNet-18 entries, with its state dict's
    # _metadata: the types matter here, not the number of tensors
    full = torchvision.models.resnet18().state_dict()
    resnet = collections.OrderedDict(list(full.items())[:6])
    resnet._metadata = full._metadata
    files = {}
    # the reference's checkpoint as its training script saves it, with an
    # SGD state (momentum buffers)
    files['reference (tests)'] = tmp_path / 'ref_test.pth'
    save_reference_checkpoint(files['reference (tests)'])
    layer = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(
        layer.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    layer(torch.randn(2, 3)).sum().backward()
    optimizer.step()
    files['reference'] = tmp_path / 'ref.pth'
    torch.save(
        {
            'iter': 21,
            'model_state_dict': layer.state_dict(),
            'optimizer_state_dict': optimizer.state_dict()
        }, files['reference'])
    # resnet18_msceleb.pth: torchvision keys under 'state_dict', in the
    # zip and the pre-1.6 formats
    files['msceleb'] = tmp_path / 'msceleb.pth'
    torch.save({'state_dict': resnet}, files['msceleb'])
    files['msceleb, legacy format'] = tmp_path / 'msceleb_legacy.pth'
    torch.save({'state_dict': resnet},
               files['msceleb, legacy format'],
               _use_new_zipfile_serialization=False)
    # mmpretrain zoo files: publish_model.py's, and mmcls 0.x's meta (a
    # numpy seed where training was not distributed)
    files['mmpretrain zoo'] = tmp_path / 'zoo.pth'
    torch.save(
        {
            'meta': {
                'mmpretrain_version': mmpretrain.__version__,
                'dataset_meta': {
                    'classes': ('a', 'b')
                },
                'epoch': 100
            },
            'state_dict':
            collections.OrderedDict(
                (f'backbone.{k}', v) for k, v in resnet.items())
        }, files['mmpretrain zoo'])
    files['mmcls 0.x zoo'] = tmp_path / 'zoo_v0.pth'
    torch.save(
        {
            'meta': {
                'mmcls_version': '0.15.0',
                'CLASSES': ['a', 'b'],
                'seed': np.int64(42),
                'config': 'model = dict()',
                'epoch': 100,
                'iter': 500000
            },
            'state_dict': resnet
        }, files['mmcls 0.x zoo'])
    for kind, path in files.items():
        checkpoint = load_checkpoint_file(path)
        assert isinstance(checkpoint, dict), kind
        if 'legacy' not in kind:
            assert_only_allowed_globals(path)


@pytest.mark.slow
def test_checkpoints_the_tools_write_load_without_opt_in(
        synthfer_root, tmp_path):
    """Training (--amp: the loss scaler's state; iteration, best),
    reparameterize_model.py and the converter; fp16's scaler state too."""
    work = tmp_path / 'work'
    cfg = write_config(
        tmp_path / 'tiny.py',
        synthfer_root,
        max_iters=2,
        ckpt_interval=2,
        val_interval=2,
        batch_size=2,
        image_size=32)
    proc = run_tool(
        'tools/train.py',
        cfg,
        '--amp',
        '--work-dir',
        str(work),
        '--cfg-options', 'default_hooks.checkpoint.save_best='
        'fer/top1',
        'default_hooks.checkpoint.rule=greater',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = {
        'iteration': work / 'iter_2.pth',
        'best': glob.glob(str(work / 'best_fer_top1_iter_2.pth'))[0]
    }
    # fp16 AmpOptimWrapper (needs a GPU): a GradScaler's state instead of
    # bf16's empty one
    checkpoint = torch.load(files['iteration'], weights_only=False)
    assert 'loss_scaler' in checkpoint['optimizer']
    checkpoint['optimizer']['loss_scaler'] = torch.amp.GradScaler(
        'cpu').state_dict()
    files['fp16'] = tmp_path / 'fp16.pth'
    torch.save(checkpoint, files['fp16'])
    files['deploy'] = tmp_path / 'deploy.pth'
    proc = run_tool(
        'tools/model_converters/reparameterize_model.py',
        cfg,
        str(files['iteration']),
        str(files['deploy']),
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    save_reference_checkpoint(tmp_path / 'ref.pth')
    files['converted'] = tmp_path / 'converted.pth'
    proc = run_tool(
        CONVERTER, tmp_path / 'ref.pth', files['converted'], in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for kind, path in files.items():
        assert_only_allowed_globals(path)
        checkpoint = load_checkpoint_file(path)
        assert 'state_dict' in checkpoint, kind
    # the training checkpoint needs the allow-list: the message hub
    hub = load_checkpoint_file(files['iteration'])['message_hub']
    assert isinstance(hub['log_scalars']['train/loss'], HistoryBuffer)


@pytest.fixture(scope='module')
def dan_checkpoint(tmp_path_factory):
    """A DAN checkpoint of the tiny config's model."""
    return save_checkpoint(build_model(),
                           tmp_path_factory.mktemp('dan') / 'dan.pth')


def trapped_dan(dan_checkpoint, tmp_path):
    """``dan_checkpoint`` with code in it: returns (path, marker)."""
    marker = tmp_path / 'dan.ran'
    path = save_booby_trapped_checkpoint(
        torch.load(dan_checkpoint, weights_only=False),
        tmp_path / 'trapped_dan.pth', marker)
    return path, marker


def tool_args(tool, checkpoint, cfg, tmp_path, synthfer_root):
    work = str(tmp_path / 'work')
    image = sorted(glob.glob(f'{synthfer_root}/Image/aligned/test_*'))[0]
    return {
        'test': ['tools/test.py', cfg, checkpoint, '--work-dir', work],
        'train --resume':
        ['tools/train.py', cfg, '--resume', checkpoint, '--work-dir', work],
        'train load_from': [
            'tools/train.py', cfg, '--work-dir', work, '--cfg-options',
            f'load_from={checkpoint}'
        ],
        'infer': [
            'tools/infer.py', cfg, checkpoint, image, '--no-detect',
            '--out-dir', work
        ],
    }[tool]


@pytest.mark.slow
@pytest.mark.parametrize(
    'tool', ['test', 'train --resume', 'train load_from', 'infer'])
def test_tools_refuse_a_crafted_checkpoint(tool, dan_checkpoint, synthfer_root,
                                           tmp_path):
    path, marker = trapped_dan(dan_checkpoint, tmp_path)
    cfg = write_config(tmp_path / 'tiny.py', synthfer_root, max_iters=1)
    proc = run_tool(
        *tool_args(tool, path, cfg, tmp_path, synthfer_root), in_process=False)
    assert proc.returncode != 0
    refusal = [
        line for line in proc.stderr.splitlines()
        if 'refused to load checkpoint' in line
    ]
    assert refusal, proc.stderr[-3000:]
    assert_refusal(refusal[-1][refusal[-1].index('refused'):], path)
    assert not marker.exists()


@pytest.mark.slow
def test_converter_refuses_a_crafted_checkpoint_unless_trusted(tmp_path):
    reference = tmp_path / 'ref.pth'
    save_reference_checkpoint(reference)
    marker = tmp_path / 'ref.ran'
    save_booby_trapped_checkpoint(
        torch.load(reference, weights_only=False), reference, marker)
    proc = run_tool(
        CONVERTER, reference, tmp_path / 'out.pth', in_process=False)
    assert proc.returncode != 0
    assert 'refused to load checkpoint' in proc.stderr
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()
    proc = run_tool(
        CONVERTER,
        reference,
        tmp_path / 'out.pth',
        '--trust-checkpoint',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert marker.exists() and (tmp_path / 'out.pth').exists()


@pytest.mark.slow
def test_test_tool_loads_a_trusted_checkpoint(dan_checkpoint, synthfer_root,
                                              tmp_path):
    path, marker = trapped_dan(dan_checkpoint, tmp_path)
    cfg = write_config(tmp_path / 'tiny.py', synthfer_root, max_iters=1)
    proc = run_tool(
        'tools/test.py',
        cfg,
        path,
        '--work-dir',
        str(tmp_path / 'work'),
        '--trust-checkpoint',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'fer/top1' in proc.stdout + proc.stderr
    assert marker.exists()
