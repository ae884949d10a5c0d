# The reference AffectNet schedule: Adam 1e-4 (weight decay 0, affinity
# centres included), ExponentialLR gamma 0.6 stepped per epoch, 10 epochs
# (the released checkpoints are from epochs 5 / 6).
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0))

param_scheduler = dict(type='ExponentialLR', gamma=0.6, by_epoch=True)

train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
