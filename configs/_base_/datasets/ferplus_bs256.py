# FERPlus (majority vote, 8 classes) decoded in memory from fer2013.csv +
# fer2013new.csv: the data infos hold `img`, so no LoadImageFromFile.
# Augmentations: the reference's RAF-DB ones (it has no FERPlus recipe).
dataset_type = 'FERPlus'
data_root = 'data/ferplus'
image_size = 224

data_preprocessor = dict(
    num_classes=8,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    # 48x48 gray, repeated on 3 channels by the data set.
    dict(type='Resize', scale=(image_size, image_size), backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomApply', prob=0.2, transforms=[
        dict(type='Rotate', magnitude_range=(0, 20), magnitude_std='inf',
             prob=1.0, random_negative_prob=0.5, pad_val=0,
             interpolation='nearest'),
        dict(type='RandomCrop', crop_size=image_size, padding=32),
    ]),
    dict(type='RandomErasing', erase_prob=0.5, min_area_ratio=0.02,
         max_area_ratio=0.25, mode='const', fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='Resize', scale=(image_size, image_size), backend='pillow',
         interpolation='bilinear'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=4,
    drop_last=True,
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)

# PublicTest for validation, PrivateTest for the test.
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')

test_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = val_evaluator
