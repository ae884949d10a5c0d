_base_ = 'mmpretrain::_base_/default_runtime.py'

# Registers DAN's components (and the safe checkpoint loader).
custom_imports = dict(imports=['dan_mm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='fer/top1',
        rule='greater'),
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

# tools/test.py --tta: average the softmax scores over the augmented copies
# of each image (the copies come from each data set's tta_pipeline).
tta_model = dict(type='AverageClsScoreTTA')
