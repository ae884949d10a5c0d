# DAN (ResNet-18, K=4) on RAF-DB, the reference recipe, with the backbone
# started from mmpretrain's ImageNet-1k ResNet-18 (resnet18_8xb32_in1k,
# 69.90 top-1 on ImageNet) instead of the reference's MS-Celeb-1M weights:
# for when resnet18_msceleb.pth is not at hand. Downloaded once into
# $TORCH_HOME/hub/checkpoints and loaded with dan_mm's safe loader.
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
            prefix='backbone.')))
