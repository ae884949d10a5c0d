# Backbone swap: Swin-T as the FCN (768 x 7 x 7 at 224).
# timm's Swin with features_only returns channels-last (N, H, W, C) maps,
# which the MAN neck cannot take; mmpretrain's own SwinTransformer returns
# (N, C, H, W), so this config uses it (no reshaping module needed).
# Local weights: model.backbone.init_cfg=dict(type='Pretrained',
#   checkpoint='checkpoints/swin_tiny.pth', prefix='backbone')
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
        pad_small_map=True),
    neck=dict(in_channels=768),
    head=dict(in_channels=768))
