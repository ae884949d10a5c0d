# Backbone swap: mmpretrain's ResNet-50 as the FCN (2048 x 7 x 7 at 224),
# started from mmpretrain's ImageNet-1k weights (resnet50_8xb32_in1k, 76.55
# top-1), downloaded once. For a local copy: --cfg-options
#   model.backbone.init_cfg.checkpoint=checkpoints/resnet50.pth
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(
        depth=50,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')),
    neck=dict(in_channels=2048),
    head=dict(in_channels=2048))
