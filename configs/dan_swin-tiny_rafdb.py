# Backbone swap: Swin-T as the FCN (768 x 7 x 7 at 224).
# timm's Swin with features_only returns channels-last (N, H, W, C) maps,
# which the MAN neck cannot take; mmpretrain's own SwinTransformer returns
# (N, C, H, W), so this config uses it (no reshaping module needed).
# Started from mmpretrain's ImageNet-1k Swin-T (swin-tiny_16xb64_in1k, 81.18
# top-1), downloaded once. For a local copy: --cfg-options
#   model.backbone.init_cfg.checkpoint=checkpoints/swin_tiny.pth
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        arch='tiny',
        img_size=224,
        out_indices=(3, ),
        drop_path_rate=0.2,
        # pad maps smaller than a 7x7 window (inputs under 224) instead of
        # refusing them
        pad_small_map=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'swin-transformer/swin_tiny_224_b16x64_300e_imagenet_'
            '20210616_090925-66df6be6.pth',
            prefix='backbone.')),
    neck=dict(in_channels=768),
    head=dict(in_channels=768))
