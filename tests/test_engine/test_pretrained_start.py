"""Where training starts: MS-Celeb by default, ImageNet by URL, from
scratch on purpose; checked before the runner builds anything."""
import copy
import functools
import glob
import os
import os.path as osp
from unittest import mock

import mmpretrain
import pytest
import torch
import torchvision
from config_utils import write_config
from fer_test_utils import REPO, serve_directory
from mmengine.config import Config
from mmpretrain.registry import MODELS
from tool_runner import run_tool

from dan_mm.engine.pretrained import (naming_pretrained_keys,
                                      prepare_pretrained_start)
from dan_mm.utils import CheckpointError, PretrainedNotFoundError
from dan_mm.utils.errors import one_line

# What each config starts from is checked for every config in
# tests/test_configs.py; these are the ones loading by URL.
IMAGENET_URL = ('dan_r18-in1k_rafdb.py', 'dan_r50_rafdb.py',
                'dan_swin-tiny_rafdb.py')
MSCELEB_INIT = dict(
    type='Pretrained', checkpoint='checkpoints/resnet18_msceleb.pth')


@functools.lru_cache(maxsize=None)
def _load(name):
    # mmengine resolves 'mmpretrain::' bases by parsing mmpretrain's model
    # index each time (~0.3 s): read each config once
    return Config.fromfile(osp.join(REPO, 'configs', name))


def load(name, **options):
    cfg = copy.deepcopy(_load(name))
    cfg.merge_from_dict(options)
    return cfg


def test_imagenet_urls_are_mmpretrain_zoo_weights():
    # offline: the URLs are those mmpretrain's model index publishes
    metafiles = ''.join(
        open(path).read() for path in glob.glob(
            osp.join(
                osp.dirname(mmpretrain.__file__), '.mim', 'configs', '*',
                'metafile.yml')))
    for name in IMAGENET_URL:
        init_cfg = load(name).model.backbone.init_cfg
        assert f'Weights: {init_cfg.checkpoint}\n' in metafiles, name
        assert init_cfg.prefix == 'backbone.'


@pytest.mark.parametrize(
    'name',
    ['dan_r18_rafdb.py', 'dan_r18_affectnet7.py', 'dan_r18-in1k_rafdb.py'])
def test_missing_pretrained_file_stops_before_anything_is_built(
        name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load(name, work_dir=str(tmp_path / 'work'))
    if name in IMAGENET_URL:
        prepare_pretrained_start(cfg)  # a URL: the loader downloads it
        return
    with pytest.raises(PretrainedNotFoundError) as err:
        prepare_pretrained_start(cfg)
    message = str(err.value)
    assert '\n' not in message
    for part in ('model.backbone.init_cfg starts from '
                 'checkpoints/resnet18_msceleb.pth',
                 'https://github.com/yaoing/DAN',
                 str(tmp_path / 'checkpoints' / 'resnet18_msceleb.pth'),
                 'configs/dan_r18-in1k_rafdb.py',
                 '--cfg-options model.backbone.init_cfg=None'):
        assert part in message
    # with the file where the config says, it goes on
    os.makedirs('checkpoints')
    open('checkpoints/resnet18_msceleb.pth', 'w').close()
    prepare_pretrained_start(cfg)


def test_resumed_and_loaded_runs_do_not_need_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    work = tmp_path / 'work'
    cfg = load('dan_r18_rafdb.py', load_from='dan.pth', work_dir=str(work))
    prepare_pretrained_start(cfg)
    assert cfg.model.backbone.init_cfg is None  # the checkpoint has it
    # resume with nothing to resume from: mmengine starts afresh, so the
    # file is needed
    cfg = load('dan_r18_rafdb.py', resume=True, work_dir=str(work))
    with pytest.raises(PretrainedNotFoundError):
        prepare_pretrained_start(cfg)
    work.mkdir()
    (work / 'epoch_3.pth').touch()
    (work / 'last_checkpoint').write_text(str(work / 'epoch_3.pth'))
    prepare_pretrained_start(cfg)
    assert cfg.model.backbone.init_cfg is None
    # a list init_cfg keeps its other entries
    cfg = load('dan_r18_rafdb.py', load_from='dan.pth')
    cfg.model.backbone.init_cfg = [
        MSCELEB_INIT,
        dict(type='Constant', val=1, layer='_BatchNorm')
    ]
    prepare_pretrained_start(cfg)
    assert cfg.model.backbone.init_cfg == [
        dict(type='Constant', val=1, layer='_BatchNorm')
    ]


@pytest.mark.parametrize('name,override,warns', [
    ('dan_r18_rafdb.py', True, True),
    ('dan_r18_affectnet8.py', True, True),
    ('dan_r18_synthfer.py', False, False),
    ('dan_convnext-atto_rafdb.py', False, False),
])
def test_from_scratch_on_purpose_warns_once(name, override, warns, tmp_path,
                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load(name)
    if override:
        cfg.merge_from_dict({'model.backbone.init_cfg': None})
    with mock.patch('dan_mm.engine.pretrained.print_log') as log:
        prepare_pretrained_start(cfg)
    assert log.call_count == int(warns)
    if warns:
        assert 'far below the paper' in log.call_args.args[0]


def test_imagenet_config_loads_the_backbone_by_url(tmp_path, monkeypatch):
    """mmpretrain's zoo layout (backbone.* and head.* keys under
    state_dict, meta) served on 127.0.0.1 under the config's file name."""
    monkeypatch.setenv('DAN_MM_HOME', str(tmp_path / 'dan_mm_home'))
    cfg = load('dan_r18-in1k_rafdb.py')
    url = cfg.model.backbone.init_cfg.checkpoint
    torch.manual_seed(7)
    resnet = torchvision.models.resnet18().state_dict()
    keys = ('conv1.weight', 'bn1.running_mean', 'layer4.1.conv2.weight')
    served = tmp_path / 'served'
    served.mkdir()
    torch.save(
        {
            'meta': {
                'mmpretrain_version': mmpretrain.__version__,
                'dataset_meta': {}
            },
            'state_dict': {
                **{
                    f'backbone.{k}': resnet[k]
                    for k in keys
                }, 'head.fc.weight': torch.zeros(1000, 512)
            }
        }, served / osp.basename(url))
    with serve_directory(served) as base:
        cfg.model.backbone.init_cfg.checkpoint = \
            f'{base}/{osp.basename(url)}'
        backbone = MODELS.build(cfg.model.backbone)
        backbone.init_weights()
    state = backbone.state_dict()
    for key in keys:
        assert torch.equal(state[key], resnet[key]), key
    assert osp.isfile(tmp_path / 'dan_mm_home' / 'checkpoints' /
                      osp.basename(url))


@pytest.mark.slow
def test_real_data_config_without_the_file_exits_in_one_line(tmp_path):
    # offline: every request goes to a closed port on this machine
    offline = {
        var: 'http://127.0.0.1:9'
        for var in ('HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy')
    }
    proc = run_tool(
        f'{REPO}/tools/train.py',
        f'{REPO}/configs/dan_r18_rafdb.py',
        cwd=tmp_path,
        in_process=False,
        env=dict(offline, DAN_MM_HOME=str(tmp_path / 'home')))
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    errors = [
        line for line in proc.stderr.splitlines() if line.startswith('error:')
    ]
    assert len(errors) == 1 and 'resnet18_msceleb.pth' in errors[0]
    assert 'yaoing/DAN' in errors[0]
    # the paper's start is fetched by default: offline, the line names it
    assert 'cannot download https://drive.google.com/uc?id=' \
        '1u2NtY-5DVlTunfN4yxfxys5n8uh7sc3n' in errors[0]
    assert not (tmp_path / 'work_dirs').exists()  # no runner was built


@pytest.mark.slow
def test_training_starts_from_the_file_and_resuming_does_not_need_it(
        synthfer_root, tmp_path):
    # lr 0: the trained weights are the starting weights
    options = {
        'model.backbone.init_cfg': dict(_delete_=True, **MSCELEB_INIT),
        'optim_wrapper.optimizer.lr': 0.0
    }
    (tmp_path / 'checkpoints').mkdir()
    torch.manual_seed(3)
    resnet = torchvision.models.resnet18(num_classes=12).state_dict()
    torch.save({'state_dict': resnet},
               tmp_path / 'checkpoints' / 'resnet18_msceleb.pth')
    work = tmp_path / 'work'

    def train(max_iters, *args):
        cfg = write_config(
            tmp_path / f'tiny_{max_iters}.py',
            synthfer_root,
            options=options,
            max_iters=max_iters,
            ckpt_interval=2,
            batch_size=2,
            image_size=32)
        proc = run_tool(
            f'{REPO}/tools/train.py',
            cfg,
            *map(str, args),
            cwd=tmp_path,
            in_process=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    log = train(2, '--work-dir', work)
    assert 'far below the paper' not in log
    state = torch.load(work / 'iter_2.pth', weights_only=False)['state_dict']
    for key in ('conv1.weight', 'layer4.1.conv2.weight'):
        assert torch.equal(state[f'backbone.{key}'], resnet[key]), key

    os.remove(tmp_path / 'checkpoints' / 'resnet18_msceleb.pth')
    log = train(4, '--work-dir', work, '--resume')
    assert 'resumed' in log and os.path.isfile(work / 'iter_4.pth')
    train(2, '--work-dir', tmp_path / 'loaded', '--cfg-options',
          f'load_from={work / "iter_2.pth"}')
    log = train(2, '--work-dir', tmp_path / 'scratch', '--cfg-options',
                'model.backbone.init_cfg=None')
    assert log.count('far below the paper') == 1


def test_offline_imagenet_start_names_the_key_for_a_local_file(
        tmp_path, monkeypatch):
    """No network: the download's error names the config key that takes
    the file instead, where training reads the weights (init_weights)."""
    monkeypatch.setenv('DAN_MM_HOME', str(tmp_path / 'dan_mm_home'))
    # every request goes to a closed port on this machine
    for var in ('HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'):
        monkeypatch.setenv(var, 'http://127.0.0.1:9')
    cfg = load('dan_r18-in1k_rafdb.py')
    url = cfg.model.backbone.init_cfg.checkpoint
    backbone = MODELS.build(cfg.model.backbone)
    with pytest.raises(CheckpointError) as info:
        with naming_pretrained_keys(cfg):
            backbone.init_weights()
    message = one_line(info.value)
    assert message.startswith('model.backbone.init_cfg.checkpoint: ')
    assert url in message and 'no connection' in message
    assert '--cfg-options model.backbone.init_cfg.checkpoint=/path/to/file' \
        in message
