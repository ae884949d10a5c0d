# Ablation on SynthFER: the FCN's backbone alone with a linear head, trained
# with cross-entropy only (no MAN, no AFN, no affinity or partition loss);
# data, pipeline and schedule are those of dan_r18_synthfer.py.
_base_ = ['dan_r18_synthfer.py']

model = dict(
    type='ImageClassifier',
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=7,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))
