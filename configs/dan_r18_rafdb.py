# DAN (ResNet-18, K=4) on RAF-DB basic: the reference recipe.
# 224x224, SGD 0.1 / StepLR(10, 0.1) / 40 epochs, batch 256 on one GPU.
# On 8 GPUs: --cfg-options train_dataloader.batch_size=32 (8x32 = 256).
_base_ = [
    '_base_/models/dan_r18.py',
    '_base_/datasets/rafdb_bs256.py',
    '_base_/schedules/sgd_steplr_40e.py',
    '_base_/default_runtime.py',
]

# The backbone starts from checkpoints/resnet18_msceleb.pth, as the
# reference (_base_/models/dan_r18.py). Without that file:
# dan_r18-in1k_rafdb.py starts from ImageNet, or
# --cfg-options model.backbone.init_cfg=None from scratch.
# The published 89.70 run had 8 affinity centres for 7 classes: add
# --cfg-options model.head.affinity_loss.num_centers=8 to reproduce it.
