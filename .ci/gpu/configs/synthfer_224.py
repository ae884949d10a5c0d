# The GPU check's full run (.ci/gpu/gpu_check.py): the SynthFER recipe
# (AdamW, cosine, batch 32, 5 epochs) at the RAF-DB recipe's 224x224
# geometry, without random erasing as dan_r18_synthfer.py. The check sets
# the data root and the workers, and on its CPU dry run the batch and the
# epochs, with --cfg-options.
_base_ = ['../../../configs/dan_r18_synthfer.py']

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.face_224.synthfer_train}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.face_224.test}}))
test_dataloader = val_dataloader
