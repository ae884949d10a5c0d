# DAN (ResNet-18, K=4) on FER2013 (7 classes), 48x48 faces upscaled to 224.
# The reference has no FER2013 recipe: this is its RAF-DB one.
_base_ = [
    '_base_/models/dan_r18.py',
    '_base_/datasets/fer2013_bs256.py',
    '_base_/schedules/sgd_steplr_40e.py',
    '_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=7))
