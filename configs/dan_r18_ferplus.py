# DAN (ResNet-18, K=4) on FERPlus (majority vote, 8 classes), 48x48 faces
# upscaled to 224. The reference has no FERPlus recipe: this is its RAF-DB
# one (SGD 0.1, StepLR(10, 0.1), 40 epochs, batch 256).
_base_ = [
    '_base_/models/dan_r18.py',
    '_base_/datasets/ferplus_bs256.py',
    '_base_/schedules/sgd_steplr_40e.py',
    '_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=8))
