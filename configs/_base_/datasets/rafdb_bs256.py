# RAF-DB basic, the reference's pipeline as mmpretrain transforms (224 px,
# written in face_224_pipelines.py with test_pipeline and tta_pipeline).
_base_ = ['face_224_pipelines.py']

dataset_type = 'RAFDB'
data_root = 'data/rafdb'

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

train_pipeline = {{_base_.face_224.rafdb_train}}

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
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')

test_dataloader = val_dataloader
test_evaluator = val_evaluator
