# Backbone swap: timm EfficientNet-B0 (features_only, last stage:
# 320 x 7 x 7 at 224) through mmpretrain's TIMMBackbone.
# Starts from scratch. model.backbone.pretrained=True starts it from timm's
# ImageNet weights, downloaded from the Hugging Face Hub whenever the model
# is built (for testing and inference too, unlike init_cfg weights).
_base_ = ['dan_r18_rafdb.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='TIMMBackbone',
        model_name='efficientnet_b0',
        features_only=True,
        pretrained=False,
        out_indices=(4, )),
    neck=dict(in_channels=320),
    head=dict(in_channels=320))
