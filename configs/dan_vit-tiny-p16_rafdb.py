# Backbone swap: timm ViT-Tiny/16 through mmpretrain's TIMMBackbone.
# timm >= 1.0 serves ViT features_only through forward_intermediates, which
# already returns (N, C, H, W) maps (here 192 x 14 x 14 at 224): the MAN
# neck takes the last one as is. img_size must match the pipeline's size.
# pretrained=False: nothing is downloaded. For local timm weights add
# checkpoint_path='checkpoints/vit_tiny_patch16_224.pth' to the backbone.
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='TIMMBackbone',
        model_name='vit_tiny_patch16_224',
        features_only=True,
        pretrained=False,
        img_size=224,
        out_indices=(-1, )),
    neck=dict(in_channels=192),
    head=dict(in_channels=192))
