# Backbone swap: timm ViT-Tiny/16 through mmpretrain's TIMMBackbone.
# timm >= 1.0 serves ViT features_only through forward_intermediates, which
# already returns (N, C, H, W) maps (here 192 x 14 x 14 at 224): the MAN
# neck takes the last one as is. img_size must match the pipeline's size.
# Starts from scratch. model.backbone.pretrained=True starts it from timm's
# ImageNet weights, downloaded from the Hugging Face Hub whenever the model
# is built (for testing and inference too, unlike init_cfg weights).
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
