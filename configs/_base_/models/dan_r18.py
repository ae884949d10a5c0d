# DAN with a ResNet-18 FCN and K=4 cross-attention heads (the reference).
model = dict(
    type='DAN',  # mmpretrain's ImageClassifier + switch_to_deploy()
    # FCN: the feature clustering network is the backbone (N x 512 x 7 x 7
    # at 224x224); its affinity loss lives in the head, next to the centres.
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        # As the reference: a ResNet-18 trained on MS-Celeb-1M (torchvision
        # keys under 'state_dict', which mmpretrain's ResNet shares), path
        # relative to where you run the tools. tools/train.py stops at once
        # if it is missing and says where it comes from; resumed runs,
        # tests and inference never read it.
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/resnet18_msceleb.pth')),
    # MAN: K parallel cross-attention heads.
    neck=dict(
        type='MultiHeadCrossAttentionNeck', in_channels=512, num_heads=4),
    # AFN: log-softmax across heads, sum, Linear + BatchNorm1d; carries the
    # affinity (FCN) and partition (AFN) losses.
    head=dict(
        type='FusionClsHead',
        num_classes=7,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        affinity_loss=dict(type='AffinityLoss', loss_weight=1.0),
        partition_loss=dict(type='PartitionLoss', loss_weight=1.0),
        topk=(1, )))
