# AffectNet-7: AffectNet-8 without Contempt (label 7 is skipped on loading).
_base_ = ['affectnet8_bs256.py']

data_preprocessor = dict(num_classes=7)
train_dataloader = dict(dataset=dict(num_classes=7))
val_dataloader = dict(dataset=dict(num_classes=7))
test_dataloader = val_dataloader
