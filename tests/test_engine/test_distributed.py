"""Distributed training: a real 2-process DDP run on CPU (gloo)."""
import json
import os.path as osp
import socket

import pytest
import torch
from config_utils import write_config
from fer_test_utils import REPO, sampler_on_rank
from mmengine.config import Config
from tool_runner import run_tool

from dan_mm.datasets import RAFDB
from dan_mm.engine import dist_utils


def test_setup_cpu_distributed_only_for_torchrun_without_gpu(monkeypatch):
    calls = []
    monkeypatch.setattr(dist_utils.torch_dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist_utils.torch_dist, 'init_process_group',
                        lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(dist_utils.torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(launcher='none'))
    dist_utils.setup_cpu_distributed(cfg)
    assert 'env_cfg' not in cfg and calls == []
    cfg = Config(dict(launcher='pytorch'))
    dist_utils.setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None)
    assert calls == [dict(backend='gloo', init_method='env://')]
    # a wrapper the config sets is kept
    cfg = Config(dict(launcher='pytorch', model_wrapper_cfg=dict(type='X')))
    dist_utils.setup_cpu_distributed(cfg)
    assert cfg.model_wrapper_cfg.type == 'X'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_processes_end_with_identical_weights(synthfer_root, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    # BN running stats are per rank (mmengine's DDP does not broadcast
    # buffers): the config's SyncBuffersHook averages them, before the probe
    # reads them.
    cfg = write_config(
        tmp_path / 'ddp.py',
        synthfer_root,
        max_iters=3,
        ckpt_interval=3,
        sampler=dict(type='ClassBalancedSampler'),
        probe_dir=out)
    proc = run_tool(
        '-m',
        'torch.distributed.run',
        '--nproc_per_node=2',
        f'--master_port={free_port()}',
        'tools/train.py',
        cfg,
        '--launcher',
        'pytorch',
        '--auto-scale-lr',
        '--work-dir',
        tmp_path / 'work',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    infos = [json.load(open(out / f'rank{r}.json')) for r in (0, 1)]
    states = [torch.load(out / f'rank{r}.pth') for r in (0, 1)]
    assert [i['world_size'] for i in infos] == [2, 2]
    assert [i['iter'] for i in infos] == [3, 3]
    # identical weights and (synced) BN buffers on both ranks
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    # rank 0's checkpoint holds the same trained parameters, moved from init
    ckpt = torch.load(tmp_path / 'work' / 'iter_3.pth', weights_only=False)
    for key, value in ckpt['state_dict'].items():
        if 'running' not in key:
            assert torch.equal(value, states[0][key]), key
    # LR scaled with the total batch, base lr * (2 ranks x 4) / 32, then
    # x0.1 at the tiny schedule's milestone
    base = Config.fromfile(f'{REPO}/configs/dan_r18_synthfer.py')
    expected = base.optim_wrapper.optimizer.lr * 8 / 32 * 0.1
    assert abs(infos[0]['lr'] - expected) < 1e-12 * expected
    # each rank trains on its own interleaved shard of one common draw
    assert infos[0]['sampler'] == 'ClassBalancedSampler'
    shards = [i['sampler_indices'] for i in infos]
    assert shards[0] != shards[1]
    dataset = RAFDB(synthfer_root, split='train')
    seed = infos[0]['sampler_seed']
    assert seed == 0 and infos[1]['sampler_seed'] == 0
    draw = list(
        sampler_on_rank(
            dataset, 0, 1, seed=seed, num_samples=2 * len(shards[0])))
    assert shards[0] == draw[0::2] and shards[1] == draw[1::2]
    for info, shard in zip(infos, shards):
        names = [
            osp.basename(dataset.get_data_info(i)['img_path'])
            for i in shard[:12]
        ]
        assert info['batches'] == [names[0:4], names[4:8], names[8:12]]


def test_dist_scripts_use_torchrun_and_mmpretrain_env():
    for name in ('dist_train.sh', 'dist_test.sh'):
        text = open(osp.join(REPO, 'tools', name)).read()
        # torchrun, through the wrapper that prints a user error once
        assert 'python -m dan_mm.engine.torchrun' in text
        for var in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
            assert f'${{{var}:-' in text
        assert '--launcher pytorch' in text
    for name in ('slurm_train.sh', 'slurm_test.sh'):
        assert '--launcher="slurm"' in open(osp.join(REPO, 'tools',
                                                     name)).read()


SYNC_BN_PROBE = '''
import json, sys
import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.runner import Runner
import dan_mm
from dan_mm.engine.dist_utils import setup_cpu_distributed

# DDP refuses SyncBatchNorm in a CPU module (SyncBatchNorm's forward needs a
# GPU); lift that guard to see what the runner builds from the config.
torch.nn.parallel.DistributedDataParallel._passing_sync_batchnorm_handle = \
    lambda self, module: None
cfg = Config.fromfile(sys.argv[1])
cfg.launcher, cfg.work_dir = 'pytorch', sys.argv[2]
setup_cpu_distributed(cfg)
runner = Runner.from_cfg(cfg)  # builds and wraps the model, not the data
model = runner.model.module
norms = [type(m).__name__ for m in model.modules()
         if isinstance(m, torch.nn.modules.batchnorm._NormBase)]
json.dump(dict(wrapper=type(runner.model).__name__, norms=norms,
               head_bn=type(model.head.bn).__name__,
               batch_size=cfg.train_dataloader.batch_size),
          open(f'{sys.argv[2]}/rank{get_rank()}.json', 'w'))
'''


@pytest.mark.slow
def test_syncbn_config_converts_every_batchnorm_when_distributed(tmp_path):
    """The 8-GPU config on 2 CPU processes (gloo). SyncBatchNorm only runs
    on GPUs (torch 2.14: its forward and DDP refuse CPU modules), so this
    checks the model the runner builds and wraps, without training."""
    (tmp_path / 'probe.py').write_text(SYNC_BN_PROBE)
    proc = run_tool(
        '-m',
        'torch.distributed.run',
        '--nproc_per_node=2',
        f'--master_port={free_port()}',
        tmp_path / 'probe.py',
        f'{REPO}/configs/dan_r18_8xb32-syncbn_rafdb.py',
        tmp_path,
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in (0, 1):
        info = json.load(open(tmp_path / f'rank{rank}.json'))
        assert info['wrapper'] == 'MMDistributedDataParallel'
        assert info['batch_size'] == 32  # x 8 GPUs = the reference's 256
        # backbone 2d, MAN 2d and 1d, AFN's BatchNorm1d(num_classes)
        assert info['head_bn'] == 'SyncBatchNorm'
        assert set(info['norms']) == {'SyncBatchNorm'}
        assert len(info['norms']) == 20 + 4 * 5 + 1
