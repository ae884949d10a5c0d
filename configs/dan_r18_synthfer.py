# DAN (ResNet-18, K=4) on the built-in SynthFER data: the same model as the
# RAF-DB recipe, at a size that trains on a laptop CPU in minutes.
# Make the data first (README):
#   python tools/dataset_converters/generate_synthfer.py data/synthfer
_base_ = ['dan_r18_rafdb.py']

data_root = 'data/synthfer'
image_size = 80  # 3x3 final feature map: room for the heads to differ
# The generator draws a face ellipse filling about 80% of the square, turned
# by up to 15 degrees (dan_mm/synthfer/draw.py): a box with a margin.
face_crop = dict(_delete_=True, mode='box', margin=0.1)

# face_224.synthfer_train and face_224.test (_base_/datasets/
# face_224_pipelines.py) at this size: a text config cannot rescale its
# base's pipelines, so tests/test_configs.py checks that these stay them.

train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(
        type='Resize',
        scale=(image_size, image_size),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomApply',
        prob=0.2,
        transforms=[
            dict(
                type='Rotate',
                magnitude_range=(0, 20),
                magnitude_std='inf',
                prob=1.0,
                random_negative_prob=0.5,
                pad_val=0,
                interpolation='nearest'),
            # padding 32 at 224 px, scaled to this size
            dict(type='RandomCrop', crop_size=image_size, padding=12),
        ]),
    # No random erasing here: SynthFER draws its own occlusions, and erasing
    # a quarter of a 80 px face slows learning more than the short CPU
    # schedule can afford.
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

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

# Flip test-time augmentation (tools/test.py --tta) at this size.
tta_pipeline = [
    *test_pipeline[:-1],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
        ], [dict(type='PackInputs')]]),
]

# From scratch: mmpretrain ResNet's own init instead of the MS-Celeb file
# (SynthFER faces are nothing like MS-Celeb's).
model = dict(
    backbone=dict(init_cfg=[
        dict(type='Kaiming', layer=['Conv2d']),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
    ]))

# From scratch (no MS-Celeb weights) and in few steps, AdamW learns much
# faster than the reference's SGD 0.1 (tried: SGD 0.05 was at 1.6 train CE
# after 2 epochs, AdamW at 1.2), with a short warm-up then cosine decay.
max_epochs = 5
optim_wrapper = dict(
    _delete_=True, optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
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
        eta_min=1e-5),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=32)

# What the model knows: drawn faces only. The inferencer, tools/infer.py and
# the web demo say so next to their results (dan_mm/inference/model_notice.py).
training_data = dict(name='SynthFER', real_faces=False)
