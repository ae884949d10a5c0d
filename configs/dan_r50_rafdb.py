# Backbone swap: mmpretrain's ResNet-50 as the FCN (2048 x 7 x 7 at 224).
# Local weights: model.backbone.init_cfg=dict(type='Pretrained',
#   checkpoint='checkpoints/resnet50.pth', prefix='backbone')
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(depth=50),
    neck=dict(in_channels=2048),
    head=dict(in_channels=2048))
