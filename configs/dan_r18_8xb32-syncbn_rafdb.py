# DAN (ResNet-18, K=4) on RAF-DB on 8 GPUs x 32 images: the reference recipe
# (1 GPU x 256) with SyncBN, so that every BatchNorm (the backbone's, the
# MAN heads' and the AFN's BatchNorm1d(num_classes)) normalises over the
# whole batch of 256 as in the reference, not over 32 per GPU.
#   bash tools/dist_train.sh configs/dan_r18_8xb32-syncbn_rafdb.py 8
_base_ = ['dan_r18_rafdb.py']

train_dataloader = dict(batch_size=32)  # per GPU: 8 x 32 = 256
# mmengine converts every BatchNorm to torch.nn.SyncBatchNorm when the run
# is distributed (a single process keeps plain BatchNorm).
sync_bn = 'torch'
