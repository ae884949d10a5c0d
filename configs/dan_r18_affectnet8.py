# DAN (ResNet-18, K=4) on AffectNet-8: the reference recipe.
# 224x224, Adam 1e-4 / ExponentialLR(0.6) / 10 epochs, batch 256,
# class-balanced sampling with replacement. Paper: 62.09 top-1.
_base_ = [
    '_base_/models/dan_r18.py',
    '_base_/datasets/affectnet8_bs256.py',
    '_base_/schedules/adam_exp_10e.py',
    '_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=8))
