# AffectNet-8, the reference's AffectNet pipeline as mmpretrain transforms,
# class-balanced sampling with replacement (weight = 1 / class count). The
# 224-px pipelines are written in face_224_pipelines.py.
_base_ = ['face_224_pipelines.py']

dataset_type = 'AffectNet'
data_root = 'data/affectnet'  # train_set/+val_set/, train/+val/ or a CSV
num_classes = 8
# Training images are cut to the CSV's face box, no margin (LoadFaceImage),
# a detector's box as RetinaFace's: inference crops the detected box.
face_crop = dict(mode='box', margin=0.0)

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = {{_base_.face_224.affectnet_train}}

train_dataloader = dict(
    batch_size=256,
    num_workers=4,
    drop_last=True,  # BatchNorm1d cannot train on a last batch of one
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        num_classes=num_classes,
        pipeline=train_pipeline),
    # len(dataset) draws per epoch, seeded with the runner's seed.
    sampler=dict(type='ClassBalancedSampler'),
)

# AffectNet's test set is not public: its validation set is the test set.
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        num_classes=num_classes,
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')

test_dataloader = val_dataloader
test_evaluator = val_evaluator
