# Fine-tune README command 1's model (DAN on SynthFER, 80 px) on your own
# folder of faces: dan_r18_finetune_folder.py at SynthFER's input size.
#   python tools/dataset_converters/crop_faces.py my_photos data/my_faces \
#       --model configs/dan_r18_synthfer.py
#   python tools/train.py configs/dan_r18_synthfer_finetune_folder.py \
#       --cfg-options data_root=data/my_faces \
#       load_from=work_dirs/dan_r18_synthfer/epoch_5.pth
_base_ = ['dan_r18_finetune_folder.py']

image_size = 80
face_crop = dict(_delete_=True, mode='box', margin=0.1)

# dan_r18_synthfer.py's pipelines.
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
            dict(type='RandomCrop', crop_size=image_size, padding=12),
        ]),
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
tta_pipeline = [
    *test_pipeline[:-1],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
        ], [dict(type='PackInputs')]]),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# Without load_from (from scratch): dan_r18_synthfer.py's initialisation.
model = dict(
    backbone=dict(init_cfg=[
        dict(type='Kaiming', layer=['Conv2d']),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
    ]))
# No training_data notice: the tuned model has seen your faces.
