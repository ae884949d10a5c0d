# mmpretrain's default runtime, stated here in full as every OpenMMLab
# repository does, not inherited through `mmpretrain::`: a cross-package base
# puts `_scope_='mmpretrain'` into each of its dicts with a `type`, and
# mmpretrain's own tools pass such a dict on as keywords
# (browse_dataset.py: "Visualizer.__init__() got an unexpected keyword
# argument '_scope_'").
default_scope = 'mmpretrain'

# Registers DAN's components (and the safe checkpoint loader).
custom_imports = dict(imports=['dan_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='fer/top1',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmpretrain's drawing of predictions on validation images (off).
    visualization=dict(type='VisualizationHook', enable=False),
    # Confusion matrix and attention panels to every vis backend (off;
    # tools/train.py --tensorboard turns it on with TensorBoard).
    fer_visualization=dict(type='FERVisualizationHook', enable=False),
)
custom_hooks = [
    # Stop with one line when model and data disagree on the classes.
    dict(type='NumClassesCheckHook'),
    # Save the test/val confusion matrix as a PNG in the run's folder.
    dict(type='SaveConfusionMatrixHook'),
    # DDP keeps per-rank BatchNorm statistics (broadcast_buffers=False);
    # average them each epoch so every rank (and the checkpoint) agrees.
    dict(type='SyncBuffersHook'),
]

# Seeded by default so that two runs of a config agree.
randomness = dict(seed=0, deterministic=False)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False

# tools/test.py --tta: average the softmax scores over the augmented copies
# of each image (the copies come from each data set's tta_pipeline).
tta_model = dict(type='AverageClsScoreTTA')
