# RAF-DB basic, the reference's pipeline as mmpretrain transforms.
dataset_type = 'RAFDB'
data_root = 'data/rafdb'
image_size = 224

# How the training faces were cut, for inference on photos (FERInferencer,
# tools/infer.py, the web demo): RAF-DB's aligned images are faces warped by
# five landmarks onto a template, 100x100. The authors do not publish the
# template: this is insightface's ArcFace template scaled to 100 px, an
# approximation. Fit the real one to your copy and paste its line here:
#   python tools/analysis_tools/fit_face_template.py data/rafdb/Image/aligned
face_crop = dict(
    mode='aligned',
    size=100,
    template=[[34.19, 46.16], [65.65, 45.98], [50.02, 64.05], [37.1, 82.47],
              [63.15, 82.33]])

# ImageNet mean/std on RGB, as torchvision's Normalize in the reference.
data_preprocessor = dict(
    num_classes=7,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadFaceImage'),
    # torchvision's Resize works on PIL images: use the same backend.
    dict(
        type='Resize',
        scale=(image_size, image_size),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # With p=0.2 both RandomRotation(20) and RandomCrop(224, padding=32).
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
            dict(type='RandomCrop', crop_size=image_size, padding=32),
        ]),
    # The reference erases with 0 after normalisation = the mean colour
    # before it (BGR here, as images are loaded BGR).
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.25,
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
    # BatchNorm1d cannot train on a last batch of one sample (the reference
    # crashes then): drop the incomplete last batch.
    drop_last=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)

val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')

test_dataloader = val_dataloader
test_evaluator = val_evaluator
