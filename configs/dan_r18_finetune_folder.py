# Fine-tune a trained DAN on your own faces, one folder per expression:
#   python tools/dataset_converters/crop_faces.py my_photos data/my_faces \
#       --model START_CONFIG
#   python tools/train.py configs/dan_r18_finetune_folder.py \
#       --cfg-options data_root=data/my_faces load_from=START_CHECKPOINT
# data_root holds happy/, sad/, ... (or train/ and val/ that each do). The
# folder names are matched to the starting model's classes by expression
# name (happy = Happiness): their head rows are kept, new classes get new
# rows, and the log says which (ClassMatchHook). Without val/, a stratified
# val_fraction of every class is held out (seed split_seed, written to
# work_dir/split/). The end of the run logs the starting and the tuned
# model's scores on that split side by side (StartVsTunedHook,
# work_dir/start_vs_tuned.json). The RAF-DB recipe's input (224 px, aligned
# faces) and augmentations; start from a model trained on it.
_base_ = ['dan_r18_rafdb.py']

# FolderFinetuneRunner fills in the data sets, classes and num_classes
# from data_root when the run starts.
runner_type = 'FolderFinetuneRunner'
data_root = 'data/my_faces'
val_fraction = 0.2
split_seed = 0
load_from = None  # the starting model: a checkpoint

# The weights come from load_from: no MS-Celeb start.
model = dict(backbone=dict(init_cfg=None))

# A few hundred faces: small batches, every class drawn equally often.
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        pipeline={{_base_.train_pipeline}}),
    sampler=dict(_delete_=True, type='ClassBalancedSampler'))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        _delete_=True, type='CustomDataset',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

# The head learns at lr, the pretrained backbone 10x slower, so that a few
# hundred faces adapt it without wiping out what it knows.
max_epochs = 6
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=max_epochs,
        eta_min=1e-6),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=32)

custom_hooks = [
    dict(type='NumClassesCheckHook'),
    dict(type='SaveConfusionMatrixHook'),
    dict(type='SyncBuffersHook'),
    # load_from's head rows follow the folder names.
    dict(type='ClassMatchHook'),
    # The starting and the tuned model on the held-out split.
    dict(type='StartVsTunedHook'),
]
