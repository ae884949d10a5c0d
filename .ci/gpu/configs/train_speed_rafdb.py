# The GPU check's training-loop speed runs (.ci/gpu/gpu_check.py): the RAF-DB
# recipe (model, 224x224 train pipeline, SGD 0.1, batch 256) on SynthFER in
# RAF-DB layout, for a fixed number of iterations at a constant learning
# rate. The check sets the data root and the workers, and on its CPU dry run
# the batch and the iterations, with --cfg-options.
_base_ = ['../../../configs/dan_r18_rafdb.py']

# speed only: a random start (no MS-Celeb file on the GPU machine)
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(
    batch_size=256,
    # no epoch boundaries: steady-state data loading
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='data/synthfer'))
# 10**9: never validate, step the learning rate or save a checkpoint
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=80, val_interval=10**9)
param_scheduler = dict(by_epoch=False, step_size=10**9)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(
        _delete_=True,
        type='CheckpointHook',
        by_epoch=False,
        interval=10**9,
        save_last=False))
# each iteration's own time and data_time, not a moving average
log_processor = dict(by_epoch=False, window_size=1)
