# The reference RAF-DB schedule: SGD 0.1, StepLR(10 epochs, 0.1), 40 epochs.
# The affinity centres are model parameters, so weight decay reaches them
# too, as in the reference.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))

param_scheduler = dict(type='StepLR', by_epoch=True, step_size=10, gamma=0.1)

train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# lr 0.1 is for a total batch of 256; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=256)
