"""Distributed training: a real 2-process DDP run on CPU (gloo)."""
import json
import os.path as osp
import socket

import pytest
import torch
from config_utils import write_config
from fer_test_utils import REPO, run_tool, sampler_on_rank
from mmengine.config import Config

from dan_mm.datasets import RAFDB
from dan_mm.utils import dist_utils


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
    proc = run_tool('-m', 'torch.distributed.run', '--nproc_per_node=2',
                    f'--master_port={free_port()}', 'tools/train.py', cfg,
                    '--launcher', 'pytorch', '--auto-scale-lr', '--work-dir',
                    tmp_path / 'work')
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
        assert 'python -m torch.distributed.run' in text
        for var in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
            assert f'${{{var}:-' in text
        assert '--launcher pytorch' in text
    for name in ('slurm_train.sh', 'slurm_test.sh'):
        assert '--launcher="slurm"' in open(osp.join(REPO, 'tools',
                                                     name)).read()
