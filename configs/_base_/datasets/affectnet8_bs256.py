# AffectNet-8, the reference's AffectNet pipeline as mmpretrain transforms,
# class-balanced sampling with replacement (weight = 1 / class count).
dataset_type = 'AffectNet'
data_root = 'data/affectnet'  # train_set/+val_set/, train/+val/ or a CSV
num_classes = 8
image_size = 224
# Training images are cut to the CSV's face box, no margin (LoadFaceImage),
# a detector's box as RetinaFace's: inference crops the detected box.
face_crop = dict(mode='box', margin=0.0)

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(
        type='Resize',
        scale=(image_size, image_size),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # With p=0.7 torchvision's RandomAffine(20, translate=(0.2, 0.2),
    # scale=(0.8, 1)) itself, through mmpretrain's torchvision wrappers
    # (the affine is colour-blind, so BGR needs no conversion).
    dict(
        type='RandomApply',
        prob=0.7,
        transforms=[
            dict(type='NumpyToPIL'),
            dict(
                type='torchvision/RandomAffine',
                degrees=20,
                translate=(0.2, 0.2),
                scale=(0.8, 1.0)),
            dict(type='PILToNumpy'),
        ]),
    # torchvision's RandomErasing() defaults: p 0.5, scale 0.02-0.33,
    # ratio 0.3-3.3, value 0 after Normalize = the mean colour before it.
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.33,
        aspect_range=(0.3, 3.3),
        mode='const',
        fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(
        type='Resize',
        scale=(image_size, image_size),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='PackInputs'),
]

# Flip test-time augmentation (tools/test.py --tta): each test image and its
# mirror image, scores averaged by tta_model.
tta_pipeline = [
    *test_pipeline[:-1],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
        ], [dict(type='PackInputs')]]),
]

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
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')

test_dataloader = val_dataloader
test_evaluator = val_evaluator
