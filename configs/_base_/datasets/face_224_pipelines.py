# The 224x224 face pipelines, written once. The data configs take theirs by
# name, for example train_pipeline = {{_base_.face_224.rafdb_train}}, so
# RAF-DB, AffectNet and the SynthFER-style runs at 224 px cannot drift apart.
# One dict rather than top-level names: a config that changes the image size
# (dan_r18_synthfer.py, 80 px) overrides train/test_pipeline and can still
# reach the 224-px ones here. Images are loaded BGR.
image_size = 224

face_224 = dict(
    # torchvision's Resize works on PIL images: use the same backend.
    test=[
        dict(type='LoadFaceImage'),
        dict(
            type='Resize',
            scale=(image_size, image_size),
            backend='pillow',
            interpolation='bilinear'),
        dict(type='PackInputs'),
    ])

# Flip test-time augmentation (tools/test.py --tta): each test image and its
# mirror image, scores averaged by tta_model.
face_224['tta'] = [
    *face_224['test'][:-1],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
        ], [dict(type='PackInputs')]]),
]

# RAF-DB: the reference's augmentation as mmpretrain transforms.
face_224['rafdb_train'] = [
    *face_224['test'][:-1],
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

# SynthFER-style: RAF-DB's geometry without random erasing, as SynthFER
# draws its own occlusions (dan_r18_synthfer.py has it at 80 px).
face_224['synthfer_train'] = [
    t for t in face_224['rafdb_train'] if t['type'] != 'RandomErasing'
]

# AffectNet: the reference's augmentation as mmpretrain transforms.
face_224['affectnet_train'] = [
    *face_224['test'][:-1],
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

# The generic names that dataloaders and tools/test.py --tta read.
test_pipeline = face_224['test']
tta_pipeline = face_224['tta']
