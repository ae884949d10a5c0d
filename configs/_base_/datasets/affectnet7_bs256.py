# AffectNet-7: AffectNet-8 without Contempt (label 7 is skipped on loading).
_base_ = ['affectnet8_bs256.py']

num_classes = 7

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(num_classes=num_classes))
val_dataloader = dict(dataset=dict(num_classes=num_classes))
test_dataloader = val_dataloader
