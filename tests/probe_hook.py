"""A test-only hook: records what a run did, can kill its own process or
fail as a bug in the code would.

Imported by the tiny runs of the tests through ``custom_imports``.
"""
import json
import os
import os.path as osp
import signal

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class ProbeHook(Hook):
    """Dump each rank's batches, losses and final weights; maybe SIGKILL.

    Args:
        out_dir (str): Where ``rank{r}.json`` and ``rank{r}.pth`` go.
        kill_after_iter (int, optional): SIGKILL this process after this
            many training iterations (1-based), like a crashed node.
        fail_before_train (bool): Raise a RuntimeError before training, as
            a bug in the code would. Defaults to False.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir, kill_after_iter=None, fail_before_train=False):
        self.out_dir = out_dir
        self.kill_after_iter = kill_after_iter
        self.fail_before_train = fail_before_train
        self.batches, self.losses = [], []

    def before_train(self, runner):
        if self.fail_before_train:
            raise RuntimeError('ProbeHook: a simulated bug')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.batches.append(
            [osp.basename(s.img_path) for s in data_batch['data_samples']])

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})
        if self.kill_after_iter == runner.iter + 1:
            os.kill(os.getpid(), signal.SIGKILL)

    def after_train(self, runner):
        rank, world_size = get_dist_info()
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        sampler = runner.train_dataloader.sampler
        wrapper = runner.optim_wrapper
        info = dict(
            rank=rank,
            world_size=world_size,
            iter=runner.iter,
            batches=self.batches,
            losses=self.losses,
            optim_wrapper=type(wrapper).__name__,
            cast_dtype=str(getattr(wrapper, 'cast_dtype', None)),
            lr=wrapper.get_lr()['lr'][0],
            sampler=type(sampler).__name__,
            sampler_seed=getattr(sampler, 'seed', None),
            sampler_indices=(list(iter(sampler)) if type(sampler).__name__
                             == 'ClassBalancedSampler' else None))
        with open(osp.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(info, f)
        torch.save(model.state_dict(), osp.join(self.out_dir,
                                                f'rank{rank}.pth'))
